package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Scheme is one way a request may carry credentials. Each legacy API
// declares the schemes its routes accept; /graphql accepts AllSchemes.
type Scheme struct {
	Kind SchemeKind
	// Header carries the token of a SchemeHeader.
	Header string
}

// SchemeKind says how a Scheme carries credentials.
type SchemeKind string

// The scheme kinds.
const (
	// SchemeHeader is a token in Scheme.Header, raw or as "Bearer <token>"
	// (in Authorization, a "Basic ..." value is not a token).
	SchemeHeader SchemeKind = "header"
	// SchemeBearer is "Authorization: Bearer <token>".
	SchemeBearer SchemeKind = "bearer"
	// SchemeBasic is HTTP Basic: a user name and password.
	SchemeBasic SchemeKind = "basic"
)

// AllSchemes are the credential conventions of the four legacy APIs, in the
// order they are looked for: Authorization (raw JWT or "Bearer <jwt>"),
// access_token (APPO), access-token (LAIN), HTTP Basic (Commissaire).
var AllSchemes = []Scheme{
	{Kind: SchemeHeader, Header: "Authorization"},
	{Kind: SchemeHeader, Header: "access_token"},
	{Kind: SchemeHeader, Header: "access-token"},
	{Kind: SchemeBasic},
}

type tokenKey struct{}

// Token returns the bearer token the request carried, if any.
func Token(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}

// HeaderValue returns the first non-blank value of the header name, matched
// without regard to case or canonical form (a name like access_token may
// arrive canonicalised as Access_token or as sent).
func HeaderValue(h http.Header, name string) (string, bool) {
	if vs := h.Values(name); len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
		return strings.TrimSpace(vs[0]), true
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			return strings.TrimSpace(vs[0]), true
		}
	}
	return "", false
}

// cutPrefixFold cuts prefix from s, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return strings.TrimSpace(s[len(prefix):]), true
	}
	return s, false
}

// credentials reads the scheme's credentials from r: a token, or a Basic
// user name and password. ok is false when r carries none of this kind.
func (sc Scheme) credentials(r *http.Request) (token, user, password string, ok bool) {
	switch sc.Kind {
	case SchemeHeader:
		h, ok := HeaderValue(r.Header, sc.Header)
		if !ok {
			return "", "", "", false
		}
		if t, bearer := cutPrefixFold(h, "bearer "); bearer {
			return t, "", "", t != ""
		}
		if _, basic := cutPrefixFold(h, "basic "); basic && strings.EqualFold(sc.Header, "Authorization") {
			return "", "", "", false
		}
		return h, "", "", true
	case SchemeBearer:
		h, _ := HeaderValue(r.Header, "Authorization")
		t, bearer := cutPrefixFold(h, "bearer ")
		return t, "", "", bearer && t != ""
	case SchemeBasic:
		user, password, ok = r.BasicAuth()
		return "", user, password, ok
	}
	return "", "", "", false
}

// Middleware resolves the request's credentials, in any of AllSchemes, to a
// viewer (see Accepting).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return s.Accepting(AllSchemes...)(next)
}

// Accepting returns a middleware that resolves the request's credentials
// to a viewer, reading only the given schemes, in order: the first one the
// request carries is checked and the others are ignored. A request without
// credentials continues anonymously; one whose credentials are refused
// continues anonymously too, with the reason in viewer.Failure, so that each
// API answers in its own shape.
func (s *Service) Accepting(schemes ...Scheme) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			var (
				v   *viewer.Viewer
				err error
			)
			for _, sc := range schemes {
				tok, user, pw, ok := sc.credentials(r)
				if !ok {
					continue
				}
				if sc.Kind == SchemeBasic {
					v, err = s.AuthenticateBasic(ctx, user, pw)
				} else {
					ctx = context.WithValue(ctx, tokenKey{}, tok)
					v, err = s.Authenticate(ctx, tok)
				}
				break
			}
			if err != nil {
				ctx = viewer.WithFailure(ctx, err)
			} else if v != nil {
				ctx = viewer.NewContext(ctx, v)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Require returns the request's viewer, or UNAUTHENTICATED with the reason
// the credentials were refused.
func Require(ctx context.Context) (*viewer.Viewer, error) {
	if v := viewer.FromContext(ctx); v != nil {
		return v, nil
	}
	if f := viewer.Failure(ctx); f != nil {
		return nil, f
	}
	return nil, apierr.New(apierr.Unauthenticated, "authentication required")
}
