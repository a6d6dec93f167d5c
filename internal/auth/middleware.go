package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Credential header conventions of the four legacy APIs, all accepted
// everywhere: Authorization (raw JWT, "Bearer <jwt>" or "Basic ..."),
// access_token (APPO) and access-token (LAIN).
const (
	headerAccessToken  = "access_token"
	headerAccessToken2 = "access-token"
)

type tokenKey struct{}

// Token returns the bearer token the request carried, if any.
func Token(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}

// bearer extracts a token from the request's headers.
func bearer(r *http.Request) string {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		if !strings.HasPrefix(strings.ToLower(h), "basic ") {
			return h
		}
	}
	// Go canonicalises header names, but access_token has an underscore and
	// arrives as sent; read the raw map for both spellings.
	for _, name := range []string{headerAccessToken, headerAccessToken2} {
		for k, v := range r.Header {
			if strings.EqualFold(k, name) && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
				t := strings.TrimSpace(v[0])
				if len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
					t = strings.TrimSpace(t[7:])
				}
				return t
			}
		}
	}
	return ""
}

// Middleware resolves the request's credentials to a viewer. A request
// without credentials continues anonymously; one whose credentials are refused
// continues anonymously too, with the reason in viewer.Failure, so that each API
// answers in its own envelope.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var (
			v   *viewer.Viewer
			err error
		)
		if tok := bearer(r); tok != "" {
			ctx = context.WithValue(ctx, tokenKey{}, tok)
			v, err = s.Authenticate(ctx, tok)
		} else if user, pw, ok := r.BasicAuth(); ok {
			v, err = s.AuthenticateBasic(ctx, user, pw)
		}
		if err != nil {
			ctx = viewer.WithFailure(ctx, err)
		} else if v != nil {
			ctx = viewer.NewContext(ctx, v)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
