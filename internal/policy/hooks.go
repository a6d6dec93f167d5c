package policy

import (
	"context"
	"fmt"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/viewer"
)

// parentTenant returns the tenant of the row a new child row hangs from. The
// lookup runs under the caller's privacy, so a parent the caller cannot see
// is not found, and a child can never be hung under another tenant's row.
func parentTenant(ctx context.Context, m ent.Mutation, parent string) (int, error) {
	var (
		id  int
		set bool
		get func(context.Context, int) (int, error)
	)
	cluster := func(c *ent.Client) func(context.Context, int) (int, error) {
		return func(ctx context.Context, id int) (int, error) {
			x, err := c.Cluster.Get(ctx, id)
			if err != nil {
				return 0, err
			}
			return x.TenantID, nil
		}
	}
	switch mm := m.(type) {
	case *ent.NodeMutation:
		id, set = mm.ClusterID()
		get = cluster(mm.Client())
	case *ent.ClusterLabelMutation:
		id, set = mm.ClusterID()
		get = cluster(mm.Client())
	case *ent.NodeLabelMutation:
		id, set = mm.NodeID()
		get = func(ctx context.Context, id int) (int, error) {
			x, err := mm.Client().Node.Get(ctx, id)
			if err != nil {
				return 0, err
			}
			return x.TenantID, nil
		}
	default:
		return 0, fmt.Errorf("policy: no parent %q for %s", parent, m.Type())
	}
	if !set {
		return 0, nil
	}
	return get(ctx, id)
}

// AssignTenant sets tenant_id on a new row that does not name one: the
// parent's tenant when parent is set, otherwise the viewer's.
func AssignTenant(parent string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if !m.Op().Is(ent.OpCreate) {
				return next.Mutate(ctx, m)
			}
			tm, ok := m.(tenantMutation)
			if !ok {
				return nil, fmt.Errorf("policy: %s is not tenant-owned", m.Type())
			}
			if parent != "" {
				tid, err := parentTenant(ctx, m, parent)
				if err != nil {
					return nil, err
				}
				if set, ok := tm.TenantID(); ok && tid != 0 && set != tid {
					return nil, fmt.Errorf("policy: %s must belong to the tenant of its %s", m.Type(), parent)
				}
				if tid != 0 {
					tm.SetTenantID(tid)
				}
			}
			if _, ok := tm.TenantID(); !ok {
				v := viewer.FromContext(ctx)
				if v == nil || v.TenantID == 0 {
					return nil, fmt.Errorf("policy: no tenant for new %s", m.Type())
				}
				tm.SetTenantID(v.TenantID)
			}
			return next.Mutate(ctx, m)
		})
	}
}
