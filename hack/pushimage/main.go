// Command pushimage pushes an image of random layers to a registry, as
// docker push would: hack/otestack-smoke.sh uses it to put images into
// Meridian's embedded registry.
//
//	go run ./hack/pushimage -user u -password p 127.0.0.1:8080/project/image:tag
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	user := flag.String("user", "", "registry user")
	password := flag.String("password", "", "registry password")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pushimage [-user u -password p] host:port/repository:tag")
		os.Exit(2)
	}
	ref, err := name.ParseReference(flag.Arg(0), name.Insecure)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	img, err := random.Image(1024, 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	auth := authn.Anonymous
	if *user != "" {
		auth = &authn.Basic{Username: *user, Password: *password}
	}
	if err := remote.Write(ref, img, remote.WithAuth(auth)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, _ := img.Digest()
	fmt.Println(d)
}
