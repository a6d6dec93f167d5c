package graph

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

type newUser struct {
	username, password string
	realName, phone    *string
	role               user.Role
	status             user.Status
}

// createUser creates a user with a tenant of their own (OTE-Stack gives every
// user a namespace). Privacy decides whether the caller may.
func (r *Resolver) createUser(ctx context.Context, in newUser) (*ent.User, error) {
	if in.username == "" {
		return nil, apierr.BadInput("username", "is required")
	}
	if err := auth.CheckPasswordPolicy("password", in.password); err != nil {
		return nil, err
	}
	if err := user.RoleValidator(in.role); err != nil {
		return nil, apierr.BadInput("role", "unknown role %q", in.role)
	}
	db := r.db(ctx)
	// Uniqueness is checked across tenants, which the caller may not see.
	sys := policy.System(ctx)
	if taken, err := db.User.Query().Where(user.Username(in.username)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "username", Message: "user name already taken"}
	}
	if taken, err := db.Tenant.Query().Where(tenant.Name(in.username)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, &apierr.Error{Code: apierr.Conflict, Field: "username", Message: "a tenant of that name already exists"}
	}
	if err := user.UsernameValidator(in.username); err != nil {
		return nil, apierr.BadInput("username", "%s", err.Error())
	}
	hash, err := auth.HashPassword(in.password)
	if err != nil {
		return nil, err
	}
	t, err := db.Tenant.Create().SetName(in.username).Save(ctx)
	if err != nil {
		return nil, err
	}
	c := db.User.Create().SetTenantID(t.ID).SetUsername(in.username).SetPasswordHash(hash).
		SetRole(in.role).SetStatus(in.status)
	if in.realName != nil {
		c.SetRealName(*in.realName)
	}
	if in.phone != nil {
		c.SetPhone(*in.phone)
	}
	return c.Save(ctx)
}

// deleteUser deletes a user, their sessions and businesses, and their tenant
// when nobody else is in it. A tenant that still owns clusters is refused:
// nothing a user runs is lost with the account.
func (r *Resolver) deleteUser(ctx context.Context, id int) (int, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return 0, err
	}
	if v.UserID == id {
		return 0, apierr.BadInput("id", "you cannot delete your own account")
	}
	db := r.db(ctx)
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
