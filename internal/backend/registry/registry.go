// Package registry is the image registry backend: it talks the OCI
// distribution protocol (catalog, tags, manifests, delete by digest) to a
// registry through go-containerregistry, and serves an embedded in-memory
// registry when none is configured.
package registry

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client reaches one registry.
type Client struct {
	host     string // host[:port]
	insecure bool   // plain HTTP
	auth     authn.Authenticator
	rt       http.RoundTripper
}

// New returns a Client for a registry endpoint: "host:port" or a URL
// (http:// means plain HTTP).
func New(endpoint, user, password string) (*Client, error) {
	c := &Client{auth: authn.Anonymous, rt: http.DefaultTransport}
	switch {
	case strings.HasPrefix(endpoint, "http://"):
		c.host, c.insecure = strings.TrimPrefix(endpoint, "http://"), true
	case strings.HasPrefix(endpoint, "https://"):
		c.host = strings.TrimPrefix(endpoint, "https://")
	default:
		c.host = endpoint
	}
	c.host = strings.TrimSuffix(c.host, "/")
	if c.host == "" || strings.ContainsAny(c.host, "/ ") {
		return nil, fmt.Errorf("registry endpoint %q is not host[:port] or a URL of one", endpoint)
	}
	if user != "" {
		c.auth = &authn.Basic{Username: user, Password: password}
	}
	return c, nil
}

// Host is the registry's host[:port], as image addresses start.
func (c *Client) Host() string { return c.host }

func (c *Client) opts(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(c.auth), remote.WithTransport(c.rt)}
}

func (c *Client) nameOpts() []name.Option {
	if c.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (c *Client) repo(repository string) (name.Repository, error) {
	return name.NewRepository(c.host+"/"+repository, c.nameOpts()...)
}

// Catalog lists the registry's repositories ("project/image"), sorted.
func (c *Client) Catalog(ctx context.Context) ([]string, error) {
	reg, err := name.NewRegistry(c.host, c.nameOpts()...)
	if err != nil {
		return nil, err
	}
	repos, err := remote.Catalog(ctx, reg, c.opts(ctx)...)
	slices.Sort(repos)
	return repos, err
}

// Tags lists a repository's tags.
func (c *Client) Tags(ctx context.Context, repository string) ([]string, error) {
	r, err := c.repo(repository)
	if err != nil {
		return nil, err
	}
	return remote.List(r, c.opts(ctx)...)
}

// Digest returns the manifest digest a tag points at.
func (c *Client) Digest(ctx context.Context, repository, tag string) (string, error) {
	r, err := c.repo(repository)
	if err != nil {
		return "", err
	}
	d, err := remote.Head(r.Tag(tag), c.opts(ctx)...)
	if err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}

// DeleteTag removes a tag. The tag itself is deleted (OCI distribution
// 1.1), then the manifest it pointed at, by digest, unless another tag still
// points at it. A registry that cannot delete tags has the manifest deleted
// by digest, which removes its tags with it.
func (c *Client) DeleteTag(ctx context.Context, repository, tag string) error {
	r, err := c.repo(repository)
	if err != nil {
		return err
	}
	d, err := c.Digest(ctx, repository, tag)
	if err != nil {
		return err
	}
	if err := remote.Delete(r.Tag(tag), c.opts(ctx)...); err != nil {
		return remote.Delete(r.Digest(d), c.opts(ctx)...)
	}
	tags, err := c.Tags(ctx, repository)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if other, err := c.Digest(ctx, repository, t); err == nil && other == d {
			return nil
		}
	}
	return remote.Delete(r.Digest(d), c.opts(ctx)...)
}

// DeleteImage deletes every tag and manifest of a repository.
func (c *Client) DeleteImage(ctx context.Context, repository string) error {
	tags, err := c.Tags(ctx, repository)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if err := c.DeleteTag(ctx, repository, t); err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
	}
	return nil
}

// Embedded is an in-memory registry speaking the distribution protocol at
// /v2/, for a Meridian with no registry configured.
func Embedded() http.Handler {
	return ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
}

// InProcess returns a Client that reaches the registry handler h directly,
// without a network: Meridian's own client of its embedded registry. host
// is the address clients outside see it at (image addresses start with it).
func InProcess(host string, h http.Handler) *Client {
	return &Client{host: host, insecure: true, auth: authn.Anonymous, rt: handlerTransport{h}}
}

// handlerTransport serves requests with a handler in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
