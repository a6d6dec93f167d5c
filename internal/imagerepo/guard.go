package imagerepo

import (
	"context"
	"net/http"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/registryaccount"
	"github.com/meridianplane/meridian/ent/registryproject"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Guard puts registry accounts in front of the embedded registry, as
// docker and other clients reach it at /v2/: anyone pulls from a public
// project; pulling from a private one, and pushing or deleting, take the
// account (HTTP Basic) of a user of the project's tenant, or of an admin.
// Repositories outside a Meridian project are refused, and so is the
// catalog (it would list other tenants' private images).
func (s *Service) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := policy.System(r.Context())
		acc, admin := s.account(ctx, r)
		path := strings.TrimPrefix(r.URL.Path, "/v2/")
		if path == "" || path == "/" { // the API version check ("docker login")
			if acc == nil {
				challenge(w)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(path, "_catalog") {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"the catalog is not served; list images through Meridian"}]}`, http.StatusForbidden)
			return
		}
		project, _, _ := strings.Cut(path, "/")
		p, err := s.client.RegistryProject.Query().Where(registryproject.Name(project)).Only(ctx)
		if err != nil {
			http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"no such project: create it through Meridian first"}]}`, http.StatusNotFound)
			return
		}
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case read && p.Public:
		case acc == nil:
			challenge(w)
			return
		case !admin && acc.TenantID != p.TenantID:
			http.Error(w, `{"errors":[{"code":"DENIED","message":"the project belongs to another tenant"}]}`, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// account authenticates the request's Basic credentials against registry
// accounts; it reports the account and whether its user is an admin.
func (s *Service) account(ctx context.Context, r *http.Request) (*ent.RegistryAccount, bool) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, false
	}
	acc, err := s.client.RegistryAccount.Query().Where(registryaccount.Username(name)).WithUser().Only(ctx)
	if err != nil || !auth.PasswordMatches(acc.PasswordHash, pw) {
		return nil, false
	}
	u := acc.Edges.User
	if u == nil || u.Status != user.StatusActive {
		return nil, false
	}
	return acc, viewer.Role(u.Role).Rank() >= viewer.RoleAdmin.Rank()
}

func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="meridian"`)
	http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"sign in with your registry account"}]}`, http.StatusUnauthorized)
}
