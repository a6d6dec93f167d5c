package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/ent/applicationversion"
)

// The hooks, through real creates (the whole policy runs first).

func TestAssignTenant(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		f.byName["server"] = f.sys
		node := func(cluster, tenant int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				b := f.c.Node.Create().SetName("n").SetClusterID(cluster)
				if tenant != 0 {
					b.SetTenantID(tenant)
				}
				n, err := b.Save(ctx)
				if err != nil {
					return 0, err
				}
				return n.TenantID, f.c.Node.DeleteOne(n).Exec(f.sys)
			}
		}
		cluster := func(tenant, manager int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				b := f.c.Cluster.Create().SetName("new")
				if tenant != 0 {
					b.SetTenantID(tenant)
				}
				if manager != 0 {
					b.SetContainerManagerID(manager)
				}
				c, err := b.Save(ctx)
				if err != nil {
					return 0, err
				}
				return c.TenantID, f.c.Cluster.DeleteOne(c).Exec(f.sys)
			}
		}
		image := func(project int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				i, err := f.c.Image.Create().SetName("x/new").SetProjectID(project).Save(ctx)
				if err != nil {
					return 0, err
				}
				return i.TenantID, f.c.Image.DeleteOne(i).Exec(f.sys)
			}
		}
		operation := func(deployment, cluster int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				o, err := f.c.Operation.Create().SetKind("k").SetDeploymentID(deployment).SetClusterID(cluster).Save(ctx)
				if err != nil {
					return 0, err
				}
				return o.TenantID, f.c.Operation.DeleteOne(o).Exec(f.sys)
			}
		}
		cases := []struct {
			name, caller string
			create       func(context.Context) (int, error)
			tenant       int    // the new row's tenant
			err          string // or the refusal: deny, not found, or part of the error
		}{
			{"a cluster", "normal", cluster(0, 0), f.tenantA, ""},
			{"a cluster", "normal of B", cluster(0, 0), f.tenantB, ""},
			{"a cluster for another tenant", "admin", cluster(f.tenantB, 0), f.tenantB, ""},
			{"a cluster of its manager's tenant", "admin", cluster(0, f.managerA), f.tenantA, ""},
			{"a cluster with another tenant's manager", "normal of B", cluster(0, f.managerA), 0, "not found"},
			{"a node under own cluster", "normal", node(f.clusterA, 0), f.tenantA, ""},
			{"a node under another tenant's cluster", "normal", node(f.clusterB, 0), 0, "not found"},
			{"a node under another tenant's cluster", "admin", node(f.clusterB, 0), f.tenantB, ""},
			{"a node, by the server", "server", node(f.clusterA, 0), f.tenantA, ""},
			{"a node naming a tenant not its cluster's", "server", node(f.clusterA, f.tenantB), 0, "must belong to the tenant of its cluster"},
			{"a cluster, by the server, of no tenant", "server", cluster(0, 0), 0, "no tenant for the new Cluster"},
			// A's public project is readable by B, not writable.
			{"an image in another tenant's public project", "normal of B", image(f.publicA), 0, "deny"},
			{"an image in another tenant's private project", "normal of B", image(f.projectA), 0, "not found"},
			{"an image in own public project", "normal", image(f.publicA), f.tenantA, ""},
			{"an operation of own deployment", "normal", operation(f.running, f.clusterA), f.tenantA, ""},
			{"an operation whose parents disagree", "admin", operation(f.running, f.clusterB), 0, "must belong to the tenant of its cluster"},
		}
		for _, c := range cases {
			tid, err := c.create(f.as(c.caller))
			switch got := outcome(err); {
			case c.err == "" && err != nil:
				t.Errorf("%s by %s: %v", c.name, c.caller, err)
			case c.err == "" && tid != c.tenant:
				t.Errorf("%s by %s: tenant %d, want %d", c.name, c.caller, tid, c.tenant)
			case c.err != "" && got != c.err && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("%s by %s: %s, want %s", c.name, c.caller, got, c.err)
			}
		}
	})
}

func TestAssignCreator(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		f.byName["server"] = f.sys
		business := func(user int) func(context.Context) (*int, error) {
			return func(ctx context.Context) (*int, error) {
				b := f.c.Business.Create().SetName("b")
				if user != 0 {
					b.SetUserID(user)
				}
				x, err := b.Save(ctx)
				if err != nil {
					return nil, err
				}
				return &x.UserID, nil
			}
		}
		version := func(ctx context.Context) (*int, error) {
			v, err := f.c.ApplicationVersion.Create().SetApplicationID(f.app).SetVersion("1.0.9").SetMainVersion("1.0").
				SetSequence(9).SetKind(applicationversion.KindWorkload).Save(ctx)
			if err != nil {
				return nil, err
			}
			return v.CreatedBy, nil
		}
		operation := func(by int) func(context.Context) (*int, error) {
			return func(ctx context.Context) (*int, error) {
				b := f.c.Operation.Create().SetKind("k").SetClusterID(f.clusterA)
				if by != 0 {
					b.SetCreatedBy(by)
				}
				o, err := b.Save(ctx)
				if err != nil {
					return nil, err
				}
				return o.CreatedBy, nil
			}
		}
		cases := []struct {
			name, caller string
			create       func(context.Context) (*int, error)
			creator      int // 0: none recorded
			err          string
		}{
			{"a business", "normal", business(0), f.alice, ""},
			{"a business for another user", "normal", business(f.gina), 0, "deny"},
			{"a business for another user", "admin of A", business(f.alice), f.alice, ""},
			{"a version", "normal", version, f.alice, ""},
			{"an operation", "normal", operation(0), f.alice, ""},
			{"an operation on behalf of another", "normal", operation(f.gina), 0, "deny"},
			{"an operation, by the server", "server", operation(0), 0, ""},
			{"an operation on behalf of a user, by the server", "server", operation(f.gina), f.gina, ""},
		}
		for _, c := range cases {
			by, err := c.create(f.as(c.caller))
			switch {
			case c.err != "":
				if got := outcome(err); got != c.err {
					t.Errorf("%s by %s: %s, want %s", c.name, c.caller, got, c.err)
				}
			case err != nil:
				t.Errorf("%s by %s: %v", c.name, c.caller, err)
			case c.creator == 0 && by != nil:
				t.Errorf("%s by %s: created by %d, want nobody", c.name, c.caller, *by)
			case c.creator != 0 && (by == nil || *by != c.creator):
				t.Errorf("%s by %s: created by %v, want %d", c.name, c.caller, by, c.creator)
			}
		}
	})
}
