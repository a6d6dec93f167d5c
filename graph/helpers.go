package graph

import (
	"context"
	"strings"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/graph/model"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
)

// db returns the client of the request's transaction (mutations run in one)
// or the root client.
func (r *Resolver) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.client
}

// clustersByName resolves cluster names as the caller sees them. Every name
// must match exactly one visible cluster; field names the input field.
func (r *Resolver) clustersByName(ctx context.Context, field string, names []string) ([]*ent.Cluster, error) {
	if len(names) == 0 {
		return nil, apierr.BadInput(field, "at least one cluster name is required")
	}
	uniq := dedupe(names)
	cs, err := r.db(ctx).Cluster.Query().Where(cluster.NameIn(uniq...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string][]*ent.Cluster{}
	for _, c := range cs {
		byName[c.Name] = append(byName[c.Name], c)
	}
	var missing []string
	for _, n := range uniq {
		switch len(byName[n]) {
		case 0:
			missing = append(missing, n)
		case 1:
		default:
			return nil, apierr.BadInput(field, "cluster name %q is ambiguous across tenants; use cluster IDs", n)
		}
	}
	if len(missing) > 0 {
		return nil, &apierr.Error{Code: apierr.NotFound, Field: field, Message: "cluster not found: " + strings.Join(missing, ", ")}
	}
	return cs, nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func payload(d *ent.Deployment, op *ent.Operation, err error) (*model.DeploymentPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DeploymentPayload{Deployment: d, Operation: op}, nil
}

// subscribe streams the rows of a topic that the subscriber can see (load
// runs under the subscriber's privacy), all of them or the one with id. The
// stream ends when the subscriber's credentials stop holding (logout,
// password change, disabled user, expired token), checked at every event
// and every 30 seconds.
func subscribe[T any](ctx context.Context, r *Resolver, topic string, id *int, load func(context.Context, int) (T, error)) (<-chan T, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	if err := r.auth.Alive(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	in := r.events.Subscribe(ctx)
	out := make(chan T, 16)
	tick := time.NewTicker(30 * time.Second)
	go func() {
		defer close(out)
		defer cancel()
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if r.auth.Alive(ctx) != nil {
					return
				}
			case e := <-in:
				if e.Topic != topic || (id != nil && e.ID != *id) {
					continue
				}
				if r.auth.Alive(ctx) != nil {
					return
				}
				row, err := load(ctx, e.ID)
				if err != nil {
					continue // not visible to this subscriber, or gone
				}
				select {
				case out <- row:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
