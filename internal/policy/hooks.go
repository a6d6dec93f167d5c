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
	switch mm := m.(type) {
	case *ent.NodeMutation:
		id, ok := mm.ClusterID()
		if !ok {
			return 0, nil
		}
		c, err := mm.Client().Cluster.Get(ctx, id)
		if err != nil {
			return 0, err
		}
		return c.TenantID, nil
	case *ent.ClusterLabelMutation:
		id, ok := mm.ClusterID()
		if !ok {
			return 0, nil
		}
		c, err := mm.Client().Cluster.Get(ctx, id)
		if err != nil {
			return 0, err
		}
		return c.TenantID, nil
	case *ent.NodeLabelMutation:
		id, ok := mm.NodeID()
		if !ok {
			return 0, nil
		}
		n, err := mm.Client().Node.Get(ctx, id)
		if err != nil {
			return 0, err
		}
		return n.TenantID, nil
	}
	return 0, fmt.Errorf("policy: no parent %q for %s", parent, m.Type())
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
