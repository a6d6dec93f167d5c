package deploy_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
	"github.com/meridianplane/meridian/internal/deploy"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/secret"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

// backend is a cluster.Backend that connects nowhere: these tests drive the
// workflow's Inventory and Observer side directly.
type backend struct {
	inv          cluster.Inventory
	obs          cluster.Observer
	disconnected []int
}

func (b *backend) Observe(inv cluster.Inventory, obs cluster.Observer) { b.inv, b.obs = inv, obs }
func (b *backend) Conn(context.Context, int) (*cluster.Conn, error) {
	return nil, errors.New("not connected")
}
func (b *backend) Disconnect(id int) { b.disconnected = append(b.disconnected, id) }
func (b *backend) RolloutDone(context.Context, int, int, string, string, map[string]int, time.Time) (bool, error) {
	return false, errors.New("not connected")
}
func (b *backend) HasWorkloads(context.Context, int, int, string) (bool, error) {
	return false, errors.New("not connected")
}
func (b *backend) Flush(context.Context)      {}
func (b *backend) CheckAll(context.Context)   {}
func (b *backend) Simulator(int) *sim.Cluster { return nil }

type fixture struct {
	client  *ent.Client
	svc     *deploy.Service
	backend *backend
	box     *secret.Box
	sys     context.Context
	tenant  *ent.Tenant
	cluster *ent.Cluster
	app     *ent.Application
	version *ent.ApplicationVersion
}

// setup opens a fresh database with a tenant and a simulated cluster, and
// the deploy Service over a backend that connects nowhere.
func setup(t *testing.T, d testenv.Database) *fixture {
	t.Helper()
	database := testenv.OpenDB(t, d)
	sys := policy.System(context.Background())
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{client: database.Client, backend: &backend{}, box: box, sys: sys}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ops := operations.New(database.Client, database.Dialect, operations.Options{Log: log})
	f.svc = deploy.New(database.Client, database.Dialect, ops, f.backend, box, log)
	if f.backend.inv == nil || f.backend.obs == nil {
		t.Fatal("deploy.New did not make the Service the backend's inventory and observer")
	}
	c := f.client
	f.tenant = c.Tenant.Create().SetName("team").SaveX(sys)
	cm := c.ContainerManager.Create().SetTenantID(f.tenant.ID).SetName("edge").SetKind(containermanager.KindSimulator).SaveX(sys)
	f.cluster = c.Cluster.Create().SetTenantID(f.tenant.ID).SetName("edge").SetContainerManagerID(cm.ID).SaveX(sys)
	f.app = c.Application.Create().SetTenantID(f.tenant.ID).SetName("web").SaveX(sys)
	f.version = c.ApplicationVersion.Create().SetApplicationID(f.app.ID).SetVersion("1.0.1").SetMainVersion("1.0").SetSequence(1).
		SetKind(applicationversion.KindWorkload).SetSpec(&appspec.Workload{DeployType: "Deployment", Image: "nginx", Replicas: 2}).SaveX(sys)
	return f
}

func (f *fixture) deployment(t *testing.T, name string, status deployment.Status) *ent.Deployment {
	t.Helper()
	return f.client.Deployment.Create().SetTenantID(f.tenant.ID).SetName(name).SetApplicationID(f.app.ID).
		SetVersionID(f.version.ID).SetClusterID(f.cluster.ID).SetNamespace("mt-1-team").SetStatus(status).SaveX(f.sys)
}

func (f *fixture) nodeLabels(t *testing.T, name string) []string {
	t.Helper()
	n, err := f.client.Node.Query().Where(node.ClusterID(f.cluster.ID), node.Name(name)).WithLabels().Only(f.sys)
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	var out []string
	for _, l := range n.Edges.Labels {
		out = append(out, l.Name)
	}
	slices.Sort(out)
	return out
}

func TestAccess(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		a, err := f.backend.inv.Access(context.Background(), f.cluster.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Simulator || a.SimulatorKey != *f.cluster.ContainerManagerID || a.Name != "edge" {
			t.Fatalf("simulated cluster's access: %+v", a)
		}

		sealed, err := f.box.Seal([]byte("secret-token"))
		if err != nil {
			t.Fatal(err)
		}
		cm := f.client.ContainerManager.Create().SetTenantID(f.tenant.ID).SetName("real").SetKind(containermanager.KindToken).
			SetAPIServer("https://10.0.0.1:6443").SetTokenSealed(sealed).SetInsecureSkipTLSVerify(true).SaveX(f.sys)
		real := f.client.Cluster.Create().SetTenantID(f.tenant.ID).SetName("real").SetContainerManagerID(cm.ID).SaveX(f.sys)
		a, err = f.backend.inv.Access(context.Background(), real.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Simulator || a.APIServer != "https://10.0.0.1:6443" || a.Token != "secret-token" || !a.InsecureSkipTLSVerify {
			t.Fatalf("token cluster's access (the token opened): %+v", a)
		}

		record := f.client.Cluster.Create().SetTenantID(f.tenant.ID).SetName("paper").SaveX(f.sys)
		if _, err := f.backend.inv.Access(context.Background(), record.ID); err == nil || !strings.Contains(err.Error(), "record only") {
			t.Fatalf("a record-only cluster has no access: %v", err)
		}
		ids, err := f.backend.inv.Reachable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		if want := []int{f.cluster.ID, real.ID}; !slices.Equal(ids, want) {
			t.Fatalf("reachable clusters: %v, want %v", ids, want)
		}
	})
}

func TestNodesObserved(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		obs, ctx, cid := f.backend.obs, context.Background(), f.cluster.ID
		err := obs.NodesListed(ctx, cid, []cluster.Node{
			{Name: "n1", Address: "10.0.0.1", Ready: true, CPUs: 4, MemoryMiB: 8192, Labels: []string{"gpu"}},
			{Name: "n2", Address: "10.0.0.2", Ready: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		n1 := f.client.Node.Query().Where(node.Name("n1")).OnlyX(f.sys)
		if n1.Address != "10.0.0.1" || !n1.Ready || n1.Cpus != 4 || n1.Memory != 8192 || n1.TenantID != f.tenant.ID {
			t.Fatalf("n1 as recorded: %+v", n1)
		}
		if got := f.nodeLabels(t, "n1"); !slices.Equal(got, []string{"gpu"}) {
			t.Fatalf("n1 labels: %v", got)
		}

		// A label recorded by Meridian and not yet on the node survives an
		// update that did not remove it; one the update removed goes.
		f.client.NodeLabel.Create().SetTenantID(f.tenant.ID).SetNodeID(n1.ID).SetName("edge").SaveX(f.sys)
		prev := cluster.Node{Name: "n1", Ready: true, Labels: []string{"gpu"}}
		if err := obs.NodeChanged(ctx, cid, &prev, cluster.Node{Name: "n1", Ready: false}); err != nil {
			t.Fatal(err)
		}
		if got := f.nodeLabels(t, "n1"); !slices.Equal(got, []string{"edge"}) {
			t.Fatalf("n1 labels after gpu was removed from the node: %v", got)
		}
		if f.client.Node.GetX(f.sys, n1.ID).Ready {
			t.Fatal("n1 still ready")
		}

		// A full listing removes labels the node lacks and nodes that left;
		// a node a deployment is pinned to stays, not ready.
		f.client.Deployment.Create().SetTenantID(f.tenant.ID).SetName("pinned").SetApplicationID(f.app.ID).
			SetVersionID(f.version.ID).SetClusterID(cid).SetNamespace("mt-1-team").SetNodeID(n1.ID).SaveX(f.sys)
		if err := obs.NodesListed(ctx, cid, []cluster.Node{{Name: "n3", Ready: true}}); err != nil {
			t.Fatal(err)
		}
		names := f.client.Node.Query().Where(node.ClusterID(cid)).Order(node.ByName()).Select(node.FieldName).StringsX(f.sys)
		if !slices.Equal(names, []string{"n1", "n3"}) {
			t.Fatalf("nodes after the listing: %v (n2 left; n1 is pinned)", names)
		}
		if f.client.Node.GetX(f.sys, n1.ID).Ready {
			t.Fatal("a pinned node that left is kept not ready")
		}
		if err := obs.NodeGone(ctx, cid, "n3"); err != nil {
			t.Fatal(err)
		}
		if f.client.Node.Query().Where(node.Name("n3")).ExistX(f.sys) {
			t.Fatal("n3 left but is still recorded")
		}
	})
}

func TestWorkloadsObserved(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		dep := f.deployment(t, "web", deployment.StatusRunning)
		changed := []int{}
		f.svc.OnChange(func(id int) { changed = append(changed, id) })
		obs, ctx := f.backend.obs, context.Background()
		ws := []cluster.Workload{
			{Kind: "Deployment", Name: "web", Replicas: 2, CPUMilli: 250, MemoryMiB: 128, Running: 1, Failing: 1,
				Pods: []appspec.Pod{{Name: "web-a", Ready: true}, {Name: "web-b", Reason: "CrashLoopBackOff"}}},
			{Kind: "DaemonSet", Name: "agent", Replicas: 1, Running: 1, Pods: []appspec.Pod{{Name: "agent-a", Ready: true}}},
		}
		if err := obs.WorkloadsObserved(ctx, f.cluster.ID, dep.ID, dep.Namespace, ws); err != nil {
			t.Fatal(err)
		}
		got := f.client.Deployment.GetX(f.sys, dep.ID)
		if got.RunningPods != 2 || got.ErrorPods != 1 || got.TotalPods != 3 {
			t.Fatalf("pod counts: running %d error %d total %d", got.RunningPods, got.ErrorPods, got.TotalPods)
		}
		w := f.client.Workload.Query().Where(workload.DeploymentID(dep.ID), workload.Name("web")).OnlyX(f.sys)
		if w.Kind != workload.KindDeployment || w.Replicas != 2 || w.CPU != 250 || w.Memory != 128 || len(w.Pods) != 2 || w.TenantID != f.tenant.ID {
			t.Fatalf("workload web: %+v", w)
		}
		if !slices.Equal(changed, []int{dep.ID}) {
			t.Fatalf("OnChange listeners told %v", changed)
		}

		// The DaemonSet is gone: its row goes.
		if err := obs.WorkloadsObserved(ctx, f.cluster.ID, dep.ID, dep.Namespace, ws[:1]); err != nil {
			t.Fatal(err)
		}
		if n := f.client.Workload.Query().Where(workload.DeploymentID(dep.ID)).CountX(f.sys); n != 1 {
			t.Fatalf("%d workloads after the DaemonSet left, want 1", n)
		}

		// Objects elsewhere (another namespace) or of an unknown deployment
		// change nothing.
		if err := obs.WorkloadsObserved(ctx, f.cluster.ID, dep.ID, "elsewhere", nil); err != nil {
			t.Fatal(err)
		}
		if err := obs.WorkloadsObserved(ctx, f.cluster.ID, dep.ID+1000, dep.Namespace, nil); err != nil {
			t.Fatal(err)
		}
		if n := f.client.Workload.Query().Where(workload.DeploymentID(dep.ID)).CountX(f.sys); n != 1 {
			t.Fatalf("objects outside the deployment's namespace rewrote its workloads (%d left)", n)
		}
		if len(changed) != 2 {
			t.Fatalf("OnChange told %d times, want 2", len(changed))
		}
	})
}

func TestClusterUpAndDown(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		obs, ctx, cid := f.backend.obs, context.Background(), f.cluster.ID
		obs.Down(ctx, cid, errors.New("cluster edge unreachable: connection refused"))
		c := f.client.Cluster.GetX(f.sys, cid)
		if c.Ready || !strings.Contains(c.LastError, "connection refused") {
			t.Fatalf("down: ready %v, last error %q", c.Ready, c.LastError)
		}
		obs.Healthy(ctx, cid)
		c = f.client.Cluster.GetX(f.sys, cid)
		if !c.Ready || c.LastError != "" {
			t.Fatalf("healthy: ready %v, last error %q", c.Ready, c.LastError)
		}
	})
}

func TestDeleteCluster(t *testing.T) {
	testenv.Each(t, func(t *testing.T, d testenv.Database) {
		f := setup(t, d)
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: 1, Username: "admin", TenantID: f.tenant.ID, Role: viewer.RoleSuperAdmin})
		cid := f.cluster.ID
		if err := f.backend.obs.NodesListed(f.sys, cid, []cluster.Node{{Name: "n1", Labels: []string{"gpu"}}}); err != nil {
			t.Fatal(err)
		}
		f.client.ClusterLabel.Create().SetClusterID(cid).SetName("prod").SaveX(f.sys)
		live := f.deployment(t, "live", deployment.StatusRunning)

		err := f.svc.DeleteCluster(admin, cid)
		if err == nil || !strings.Contains(err.Error(), "still has 1 deployment") {
			t.Fatalf("a cluster with a live deployment: %v", err)
		}
		f.client.Deployment.UpdateOne(live).SetStatus(deployment.StatusDeleted).ExecX(f.sys)
		f.client.Workload.Create().SetTenantID(f.tenant.ID).SetDeploymentID(live.ID).SetName("web").SetKind(workload.KindDeployment).SaveX(f.sys)
		if err := f.svc.DeleteCluster(admin, cid); err != nil {
			t.Fatal(err)
		}
		for what, n := range map[string]int{
			"clusters":           f.client.Cluster.Query().CountX(f.sys),
			"container managers": f.client.ContainerManager.Query().CountX(f.sys),
			"nodes":              f.client.Node.Query().CountX(f.sys),
			"node labels":        f.client.NodeLabel.Query().CountX(f.sys),
			"cluster labels":     f.client.ClusterLabel.Query().CountX(f.sys),
			"deployments":        f.client.Deployment.Query().CountX(f.sys),
			"workloads":          f.client.Workload.Query().CountX(f.sys),
		} {
			if n != 0 {
				t.Errorf("%d %s left after the cluster was deleted", n, what)
			}
		}
		if !slices.Equal(f.backend.disconnected, []int{cid}) {
			t.Fatalf("disconnected %v, want [%d]", f.backend.disconnected, cid)
		}
	})
}
