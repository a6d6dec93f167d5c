package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/audit"
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

func TestRule(t *testing.T) {
	for _, c := range []struct {
		role             viewer.Role
		mayAudit         bool
		awaits, awaitsIf bool // without and with the tenant's auto-approval
	}{
		{viewer.RoleGuest, false, true, false},
		{viewer.RoleNormal, false, true, false},
		{viewer.RoleAdmin, true, false, false},
		{viewer.RoleSuperAdmin, true, false, false},
	} {
		v := &viewer.Viewer{Role: c.role}
		if v.MayAudit() != c.mayAudit || v.AwaitsAudit(false) != c.awaits || v.AwaitsAudit(true) != c.awaitsIf {
			t.Errorf("%s: may audit %v, awaits %v / %v with auto-approval", c.role, v.MayAudit(), v.AwaitsAudit(false), v.AwaitsAudit(true))
		}
	}
	var nobody *viewer.Viewer
	if nobody.MayAudit() || !nobody.AwaitsAudit(false) {
		t.Error("no viewer may audit, and what it would create awaits audit")
	}
}

func TestBusiness(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		c := testenv.OpenDB(t, d).Client
		sys := policy.System(context.Background())
		tn := c.Tenant.Create().SetName("team").SaveX(sys)
		u := c.User.Create().SetTenantID(tn.ID).SetUsername("alice").SetPasswordHash("x").SaveX(sys)
		b := c.Business.Create().SetTenantID(tn.ID).SetUserID(u.ID).SetName("edge rollout").SaveX(sys)
		normal := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, TenantID: tn.ID, Role: viewer.RoleNormal})
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID + 100, TenantID: tn.ID, Role: viewer.RoleAdmin})

		if _, err := audit.Business(normal, c, b.ID, business.StatusApproved, nil); err == nil {
			t.Fatal("a normal user audited a business")
		}
		if _, err := audit.Business(admin, c, b.ID, business.StatusPending, nil); code(err) != apierr.BadUserInput {
			t.Fatalf("an audit to pending: %v", err)
		}
		note := "looks fine"
		got, err := audit.Business(admin, c, b.ID, business.StatusApproved, &note)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != business.StatusApproved || got.Comment != note {
			t.Fatalf("after the audit: %s %q", got.Status, got.Comment)
		}
		if _, err := audit.Business(admin, c, b.ID, business.StatusRejected, nil); code(err) != apierr.Conflict {
			t.Fatalf("a second audit: %v", err)
		}
		if _, err := audit.Business(admin, c, b.ID+1000, business.StatusRejected, nil); err == nil {
			t.Fatal("an audit of a business that does not exist")
		}
	})
}
