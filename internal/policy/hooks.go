package policy

import (
	"context"
	"fmt"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/viewer"
)

// parentTenant returns the tenant of the row a new child row hangs from:
// the target of the mutation's <parent>_id field. The lookup runs under the
// caller's privacy, so a parent the caller cannot see is not found, and a
// child can never be hung under another tenant's row.
func parentTenant(ctx context.Context, m ent.Mutation, parent string) (int, error) {
	v, ok := m.Field(parent + "_id")
	if !ok {
		return 0, nil
	}
	id, ok := v.(int)
	if !ok {
		return 0, fmt.Errorf("policy: %s.%s_id is %T", m.Type(), parent, v)
	}
	c, ok := m.(interface{ Client() *ent.Client })
	if !ok {
		return 0, fmt.Errorf("policy: %s has no client", m.Type())
	}
	client := c.Client()
	load, ok := map[string]func(context.Context, int) (int, error){
		"cluster": func(ctx context.Context, id int) (int, error) {
			x, err := client.Cluster.Get(ctx, id)
			return tenantOf(x, err)
		},
		"node": func(ctx context.Context, id int) (int, error) {
			x, err := client.Node.Get(ctx, id)
			return tenantOf(x, err)
		},
		"application": func(ctx context.Context, id int) (int, error) {
			x, err := client.Application.Get(ctx, id)
			return tenantOf(x, err)
		},
		"project": func(ctx context.Context, id int) (int, error) {
			x, err := client.RegistryProject.Get(ctx, id)
			return tenantOf(x, err)
		},
		"image": func(ctx context.Context, id int) (int, error) {
			x, err := client.Image.Get(ctx, id)
			return tenantOf(x, err)
		},
		"deployment": func(ctx context.Context, id int) (int, error) {
			x, err := client.Deployment.Get(ctx, id)
			return tenantOf(x, err)
		},
	}[parent]
	if ok {
		return load(ctx, id)
	}
	return 0, fmt.Errorf("policy: unknown parent %q of %s", parent, m.Type())
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

// tenantOf returns the tenant of a loaded parent row.
func tenantOf[T interface {
	*ent.Cluster | *ent.Node | *ent.Application | *ent.Deployment | *ent.RegistryProject | *ent.Image
}](x T, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	switch v := any(x).(type) {
	case *ent.Cluster:
		return v.TenantID, nil
	case *ent.Node:
		return v.TenantID, nil
	case *ent.Application:
		return v.TenantID, nil
	case *ent.RegistryProject:
		return v.TenantID, nil
	case *ent.Image:
		return v.TenantID, nil
	case *ent.Deployment:
		return v.TenantID, nil
	}
	return 0, fmt.Errorf("policy: no tenant on %T", x)
}
