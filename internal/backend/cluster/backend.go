package cluster

import (
	"context"
	"time"

	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
)

// Backend is the Kubernetes backend as a workflow sees it: it connects to
// clusters and reports what it observes in them to the Observer. *Manager
// implements it for real clusters (client-go) and simulated ones (the
// simulator behind client-go's fake clientset) alike.
type Backend interface {
	// Observe sets who says how to reach clusters and hears what they do.
	// Call it once, before clusters connect.
	Observe(Inventory, Observer)
	// Conn returns the live connection to a cluster, connecting if needed.
	Conn(ctx context.Context, clusterID int) (*Conn, error)
	// Disconnect drops a cluster's connection.
	Disconnect(clusterID int)
	// RolloutDone reports, without waiting, whether a deployment's
	// workloads run version with all their pods ready; a *RolloutError
	// when the rollout failed or its deadline after since passed.
	RolloutDone(ctx context.Context, clusterID, deploymentID int, namespace, version string, want map[string]int, since time.Time) (bool, error)
	// HasWorkloads reports whether the cluster holds any workload of a
	// deployment.
	HasWorkloads(ctx context.Context, clusterID, deploymentID int, namespace string) (bool, error)
	// Flush reports the workloads that changed since the last flush.
	Flush(ctx context.Context)
	// CheckAll checks, and (re)connects, every cluster the Inventory lists.
	CheckAll(ctx context.Context)
	// Simulator is the simulated cluster behind a cluster, or nil.
	Simulator(clusterID int) *sim.Cluster
}

// Cluster is what a workflow does on one connected cluster: apply a
// deployment's objects, install, upgrade, roll back and uninstall Helm
// releases, and label nodes. *Conn implements it.
type Cluster interface {
	Apply(ctx context.Context, t *Target) error
	Delete(ctx context.Context, namespace, name string) error
	HelmApply(ctx context.Context, t *ChartTarget) (bool, error)
	HelmRollback(ctx context.Context, name, namespace, version string) (bool, error)
	HelmReleaseExists(name, namespace string) (bool, error)
	HelmUninstall(ctx context.Context, name, namespace string) error
	LabelNodes(ctx context.Context, label string, nodes []string, add bool) error
}

var (
	_ Backend = (*Manager)(nil)
	_ Cluster = (*Conn)(nil)
)

// Access says how to reach one cluster: the built-in simulator, a
// kubeconfig, or an API server with a bearer token. Credentials are in the
// clear: the Inventory opens what it stores sealed.
type Access struct {
	Name string // for messages

	// Simulator, when set, reaches the simulated cluster of SimulatorKey
	// (one per key, kept for the life of the process).
	Simulator    bool
	SimulatorKey int

	Kubeconfig []byte

	APIServer, Token, CACert string
	InsecureSkipTLSVerify    bool
}

// Inventory is the workflow that owns the cluster records, as the backend
// asks it: which clusters to keep connected and how to reach each.
type Inventory interface {
	// Access says how to reach a cluster; an error when it cannot be
	// reached (a record only, or gone).
	Access(ctx context.Context, clusterID int) (*Access, error)
	// Reachable lists the clusters to keep connected.
	Reachable(ctx context.Context) ([]int, error)
}

// Node is what the backend observes of a Kubernetes node.
type Node struct {
	Name, Address                  string
	OperatingSystem, KernelVersion string
	Ready                          bool
	CPUs, MemoryMiB, StorageMiB    int
	Labels                         []string // Meridian node labels (see NodeLabelPrefix)
}

// Workload is what the backend observes of one workload object (a
// Deployment or DaemonSet) of a deployment, and its pods.
type Workload struct {
	Kind, Name          string
	Replicas            int // pods wanted: replicas, or eligible nodes
	CPUMilli, MemoryMiB int // the first container's requests
	Pods                []appspec.Pod
	Running, Failing    int // pods ready; pods failing (image pull, crash loop...)
}

// Observer hears what the backend observes; the workflow that owns the
// cluster, node, deployment and workload records writes them. Calls for
// one cluster may come from several goroutines.
type Observer interface {
	// Connected is told of every (re)connection, before the connection is
	// used by anyone else, after the nodes were listed.
	Connected(ctx context.Context, c *Conn) error
	// Down is told when a cluster cannot be reached, and why.
	Down(ctx context.Context, clusterID int, cause error)
	// Healthy is told when a connected cluster answered a health check.
	Healthy(ctx context.Context, clusterID int)
	// NodesListed gives every node of a cluster at (re)connection: nodes
	// not in the list are gone, and labels a node lacks were removed.
	NodesListed(ctx context.Context, clusterID int, nodes []Node) error
	// NodeChanged is told when a node appears (prev nil) or changes.
	NodeChanged(ctx context.Context, clusterID int, prev *Node, n Node) error
	// NodeGone is told when a node leaves the cluster.
	NodeGone(ctx context.Context, clusterID int, name string) error
	// WorkloadsObserved gives a deployment's workloads (all of them; none
	// when its objects are gone) after its objects or pods changed.
	WorkloadsObserved(ctx context.Context, clusterID, deploymentID int, namespace string, ws []Workload) error
}
