// Package viewer carries the identity of the caller through a request's context.
// ent privacy policies read it to decide what the caller may see and change.
package viewer

import (
	"context"
	"time"
)

// Role is a platform-wide role. The values equal the ent user.Role enum values.
type Role string

// Roles, from least to most privileged.
const (
	RoleGuest      Role = "guest"
	RoleNormal     Role = "normal"
	RoleAdmin      Role = "admin"
	RoleSuperAdmin Role = "super_admin"
)

// Rank orders roles; an unknown role ranks below guest.
func (r Role) Rank() int {
	switch r {
	case RoleGuest:
		return 1
	case RoleNormal:
		return 2
	case RoleAdmin:
		return 3
	case RoleSuperAdmin:
		return 4
	}
	return 0
}

// Viewer is the authenticated caller.
type Viewer struct {
	UserID    int
	Username  string
	TenantID  int
	Role      Role
	SessionID string    // the token's session, empty for HTTP Basic
	Expires   time.Time // when the token expires; zero for HTTP Basic
}

// IsAdmin reports whether the viewer is an admin or super-admin: such a viewer
// sees and changes every tenant's rows.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role.Rank() >= RoleAdmin.Rank() }

// IsSuperAdmin reports whether the viewer is the super-admin.
func (v *Viewer) IsSuperAdmin() bool { return v != nil && v.Role == RoleSuperAdmin }

// ReadOnly reports whether the viewer may only read.
func (v *Viewer) ReadOnly() bool { return v == nil || v.Role.Rank() < RoleNormal.Rank() }

// The admin audit rule, decided here and nowhere else: the privacy
// policies (internal/policy) and the workflows (internal/deploy,
// internal/audit) ask these two.

// MayAudit reports whether v may approve or reject what waits for an admin
// audit (a deployment, a business): admins and super-admins.
func (v *Viewer) MayAudit() bool { return v.IsAdmin() }

// AwaitsAudit reports whether a deployment v creates waits for an admin's
// audit: unless v may audit, or v's tenant auto-approves its deployments
// (its enable_admin_auto_deploy setting), it does.
func (v *Viewer) AwaitsAudit(tenantAutoApproves bool) bool {
	return !v.MayAudit() && !tenantAutoApproves
}

type ctxKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

type failureKey struct{}

// WithFailure records why the request's credentials were refused.
func WithFailure(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, failureKey{}, err)
}

// Failure returns why the request's credentials were refused, or nil when none
// were sent or they were accepted.
func Failure(ctx context.Context) error {
	err, _ := ctx.Value(failureKey{}).(error)
	return err
}
