// Package accounts is the workflow of user accounts and their tenants:
// OTE-Stack gives every user a tenant (a namespace) of their own, created
// with the account and deleted with its last user.
package accounts

import (
	"context"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/ent/session"
	"github.com/meridianplane/meridian/ent/tenant"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/policy"
)

// NewUser is an account to create.
type NewUser struct {
	Username, Password string
	RealName, Phone    *string
	Role               user.Role
	Status             user.Status
}

// Create creates a user with a tenant of their own, through db under the
// caller's privacy (which decides whether the caller may). Names are
// unique across tenants.
func Create(ctx context.Context, db *ent.Client, in NewUser) (*ent.User, error) {
	if in.Username == "" {
		return nil, apierr.BadInput("username", "is required")
	}
	if err := auth.CheckPasswordPolicy("password", in.Password); err != nil {
		return nil, err
	}
	if err := user.RoleValidator(in.Role); err != nil {
		return nil, apierr.BadInput("role", "unknown role %q", in.Role)
	}
	// Uniqueness is checked across tenants, which the caller may not see.
	sys := policy.System(ctx)
	if taken, err := db.User.Query().Where(user.Username(in.Username)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "username", Message: "user name already taken"}
	}
	if taken, err := db.Tenant.Query().Where(tenant.Name(in.Username)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "username", Message: "a tenant of that name already exists"}
	}
	if err := user.UsernameValidator(in.Username); err != nil {
		return nil, apierr.BadInput("username", "%s", err.Error())
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	t, err := db.Tenant.Create().SetName(in.Username).Save(ctx)
	if err != nil {
		return nil, err
	}
	c := db.User.Create().SetTenantID(t.ID).SetUsername(in.Username).SetPasswordHash(hash).
		SetRole(in.Role).SetStatus(in.Status)
	if in.RealName != nil {
		c.SetRealName(*in.RealName)
	}
	if in.Phone != nil {
		c.SetPhone(*in.Phone)
	}
	return c.Save(ctx)
}

// Delete deletes a user, their sessions and businesses, and their tenant
// when nobody else is in it, through db under the caller's privacy. A
// tenant that still owns clusters is refused: nothing a user runs is lost
// with the account. Nobody deletes their own account.
func Delete(ctx context.Context, db *ent.Client, id int) (int, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return 0, err
	}
	if v.UserID == id {
		return 0, apierr.BadInput("id", "you cannot delete your own account")
	}
	u, err := db.User.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	others, err := db.User.Query().Where(user.TenantID(u.TenantID), user.IDNEQ(id)).Exist(ctx)
	if err != nil {
		return 0, err
	}
	if !others {
		n, err := db.Cluster.Query().Where(cluster.TenantID(u.TenantID)).Count(ctx)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, apierr.New(apierr.Conflict, "user %q still owns %d cluster(s); delete them first", u.Username, n)
		}
	}
	// Privacy decides on the user delete (admin; super-admin for admins); the
	// transaction undoes the deletes before it if it is refused.
	if _, err := db.Business.Delete().Where(business.UserID(id)).Exec(ctx); err != nil {
		return 0, err
	}
	if _, err := db.Session.Delete().Where(session.UserID(id)).Exec(policy.System(ctx)); err != nil {
		return 0, err
	}
	if err := db.User.DeleteOneID(id).Exec(ctx); err != nil {
		return 0, err
	}
	if !others {
		if err := db.Tenant.DeleteOneID(u.TenantID).Exec(ctx); err != nil {
			return 0, err
		}
	}
	return id, nil
}
