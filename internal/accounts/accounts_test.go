package accounts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/tenant"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/accounts"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

func code(err error) apierr.Code {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func as(u *ent.User, role viewer.Role) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Username: u.Username, TenantID: u.TenantID, Role: role})
}

func TestCreateAndDelete(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		c := testenv.OpenDB(t, d).Client
		sys := policy.System(context.Background())
		admin, err := accounts.Create(sys, c, accounts.NewUser{Username: "root", Password: "password1", Role: user.RoleSuperAdmin, Status: user.StatusActive})
		if err != nil {
			t.Fatal(err)
		}
		actx := as(admin, viewer.RoleSuperAdmin)

		// Each user gets a tenant of their own, named after them.
		alice, err := accounts.Create(actx, c, accounts.NewUser{Username: "alice", Password: "password1", Role: user.RoleNormal, Status: user.StatusActive})
		if err != nil {
			t.Fatal(err)
		}
		tn := c.Tenant.GetX(sys, alice.TenantID)
		if tn.Name != "alice" || alice.TenantID == admin.TenantID {
			t.Fatalf("alice's tenant: %+v", tn)
		}

		for name, in := range map[string]accounts.NewUser{
			"taken name": {Username: "alice", Password: "password1", Role: user.RoleNormal},
			"short pass": {Username: "bob", Password: "pw", Role: user.RoleNormal},
			"no name":    {Username: "", Password: "password1", Role: user.RoleNormal},
			"bad role":   {Username: "carol", Password: "password1", Role: "owner"},
		} {
			_, err := accounts.Create(actx, c, in)
			if code(err) == "" {
				t.Errorf("%s: want a client error, got %v", name, err)
			}
		}
		if n := c.Tenant.Query().CountX(sys); n != 2 {
			t.Fatalf("%d tenants after refused creates, want 2", n)
		}

		// A normal user may not create accounts (privacy decides).
		if _, err := accounts.Create(as(alice, viewer.RoleNormal), c, accounts.NewUser{Username: "dave", Password: "password1", Role: user.RoleNormal, Status: user.StatusActive}); err == nil {
			t.Fatal("a normal user created an account")
		}

		if _, err := accounts.Delete(actx, c, admin.ID); code(err) != apierr.BadUserInput {
			t.Fatalf("deleting your own account: %v", err)
		}
		// A tenant that owns clusters keeps its last user.
		cl := c.Cluster.Create().SetTenantID(alice.TenantID).SetName("edge").SaveX(sys)
		if _, err := accounts.Delete(actx, c, alice.ID); code(err) != apierr.Conflict {
			t.Fatalf("deleting a user whose tenant owns a cluster: %v", err)
		}
		c.Cluster.DeleteOne(cl).ExecX(sys)
		if _, err := accounts.Delete(actx, c, alice.ID); err != nil {
			t.Fatal(err)
		}
		if c.User.Query().Where(user.Username("alice")).ExistX(sys) || c.Tenant.Query().Where(tenant.Name("alice")).ExistX(sys) {
			t.Fatal("alice or her tenant is still there")
		}
	})
}
