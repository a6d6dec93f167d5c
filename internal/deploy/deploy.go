// Package deploy is the workflow of clusters and deployments: registering a
// cluster, creating application versions, deploying, upgrading, rolling
// back, scaling and deleting. Requests write rows and an Operation in their
// transaction (under the caller's privacy); the operation kinds here carry
// the work out on the cluster backend. The Service owns the cluster, node,
// deployment and workload rows: the backend reports what it observes in
// the clusters (connect.go, nodes.go, workloads.go) and the Service writes
// it.
package deploy

import (
	"context"
	"log/slog"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/secret"
)

// Operation kinds.
const (
	KindConnect = "cluster.connect"
	KindApply   = "deployment.apply"
	KindDelete  = "deployment.delete"
	// KindNodeLabels writes a Meridian node label to Kubernetes nodes.
	KindNodeLabels = "node.labels"
)

// Service runs the workflow.
type Service struct {
	client   *ent.Client
	dialect  string
	ops      *operations.Runner
	clusters cluster.Backend
	box      *secret.Box // seals the credentials of container managers
	log      *slog.Logger
	changed  []func(deploymentID int)
	pull     func(ctx context.Context, registryID int) (*cluster.PullCredential, error)
}

// UsePullCredentials sets where the credentials of an application
// version's external registry come from (the repository service).
func (s *Service) UsePullCredentials(f func(ctx context.Context, registryID int) (*cluster.PullCredential, error)) {
	s.pull = f
}

// Operations is the runner the workflow's operations go to.
func (s *Service) Operations() *operations.Runner { return s.ops }

// OnChange adds a listener told when an operation changes a deployment's
// status. Register listeners before operations run.
func (s *Service) OnChange(f func(deploymentID int)) { s.changed = append(s.changed, f) }

func (s *Service) notify(id int) {
	for _, f := range s.changed {
		f(id)
	}
}

// New returns the Service, registers its operation kinds with ops, and
// makes itself the Inventory and Observer of the cluster backend.
// dialect is the database's ("sqlite3" or "postgres").
func New(client *ent.Client, dialect string, ops *operations.Runner, clusters cluster.Backend, box *secret.Box, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{client: client, dialect: dialect, ops: ops, clusters: clusters, box: box, log: log}
	Connect.Handle(ops, operations.Handler[ConnectArgs, ConnectResult]{Run: s.runConnect})
	Apply.Handle(ops, operations.Handler[ApplyArgs, ApplyResult]{Run: s.runApply, Finished: s.applyFinished})
	Delete.Handle(ops, operations.Handler[DeleteArgs, operations.None]{Run: s.runDelete, Finished: s.deleteFinished})
	NodeLabels.Handle(ops, operations.Handler[NodeLabelsArgs, operations.None]{Run: s.runNodeLabels})
	clusters.Observe(s, s)
	return s
}

// db is the request transaction's client, or the root client.
func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}
