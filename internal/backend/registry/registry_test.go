package registry

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// push writes a random image (layers built in the test) to host/repo:tag.
func push(t *testing.T, host, repo, tag string) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryProtocol(t *testing.T) {
	srv := httptest.NewServer(Embedded())
	defer srv.Close()
	c, err := New(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	push(t, c.Host(), "test/demo1", "latest")
	push(t, c.Host(), "test/demo1", "v1")
	push(t, c.Host(), "test2/demo2", "v1")
	repos, err := c.Catalog(ctx)
	if err != nil || !slices.Equal(repos, []string{"test/demo1", "test2/demo2"}) {
		t.Fatalf("catalog %v %v", repos, err)
	}
	tags, err := c.Tags(ctx, "test/demo1")
	if err != nil || !slices.Equal(tags, []string{"latest", "v1"}) {
		t.Fatalf("tags %v %v", tags, err)
	}
	if err := c.DeleteTag(ctx, "test/demo1", "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Digest(ctx, "test/demo1", "v1"); err == nil {
		t.Fatal("the deleted tag still resolves")
	}
	if _, err := c.Digest(ctx, "test/demo1", "latest"); err != nil {
		t.Fatalf("the other tag went too: %v", err)
	}
	if err := c.DeleteImage(ctx, "test2/demo2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Digest(ctx, "test2/demo2", "v1"); err == nil {
		t.Fatal("the deleted image still resolves")
	}
	if err := c.DeleteTag(ctx, "test/demo1", "nope"); err == nil {
		t.Fatal("deleting a tag that does not exist succeeded")
	}
	if _, err := New("not a host/with spaces", "", ""); err == nil {
		t.Fatal("a bad endpoint was accepted")
	}
}
