package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/secret"
)

// Labels Meridian puts on what it creates.
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedBy       = "meridian"
	LabelDeployment = "meridian.io/deployment-id"
	LabelVersion    = "meridian.io/version"
	// LabelWorkload ties a pod template to its workload object ("Kind.name").
	LabelWorkload = "meridian.io/workload"
	// NodeLabelPrefix prefixes a Meridian node label on a Kubernetes node:
	// label "gpu" is node.meridian.io/gpu=true.
	NodeLabelPrefix = "node.meridian.io/"
	FieldManager    = "meridian"
	defaultTimeout  = 20 * time.Second
)

// Options tune the Manager.
type Options struct {
	SimulatorNodes  int           // nodes of a new simulated cluster (default 3)
	SimulatorTick   time.Duration // simulator step (default 100ms)
	Health          time.Duration // how often clusters are checked (default 15s)
	Flush           time.Duration // how often workload status is written (default 200ms)
	RolloutDeadline time.Duration // how long a rollout may take (default 5m)
	Log             *slog.Logger
}

// Manager keeps one connection per cluster.
type Manager struct {
	client *ent.Client
	box    *secret.Box
	o      Options
	log    *slog.Logger
	ctx    context.Context

	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      map[int]*Conn
	connecting map[int]*sync.Mutex
	sims       map[int]*sim.Cluster

	onConnect []func(ctx context.Context, c *Conn)

	dirtyMu sync.Mutex
	dirty   map[int]bool // deployment IDs whose workloads changed
	changed []func(deploymentID int)
}

// Conn is a live connection to one cluster.
type Conn struct {
	ClusterID int
	TenantID  int
	Kube      kubernetes.Interface
	Version   string

	cmID    int
	ep      *endpoint
	factory informers.SharedInformerFactory // nodes
	managed informers.SharedInformerFactory // what Meridian applied, and its pods
	cancel  context.CancelFunc
}

// New returns a Manager; it works until ctx ends.
func New(ctx context.Context, client *ent.Client, box *secret.Box, o Options) *Manager {
	if o.SimulatorNodes <= 0 {
		o.SimulatorNodes = 3
	}
	if o.Health <= 0 {
		o.Health = 15 * time.Second
	}
	if o.Flush <= 0 {
		o.Flush = 200 * time.Millisecond
	}
	if o.RolloutDeadline <= 0 {
		o.RolloutDeadline = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	m := &Manager{client: client, box: box, o: o, log: o.Log, ctx: ctx,
		conns: map[int]*Conn{}, connecting: map[int]*sync.Mutex{}, sims: map[int]*sim.Cluster{}, dirty: map[int]bool{}}
	return m
}

// Start runs the background loops (workload status, cluster health) until
// the Manager's context ends; Wait waits for them and every connection.
func (m *Manager) Start() {
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.flushLoop() }()
	go func() { defer m.wg.Done(); m.healthLoop() }()
}

// Wait waits, once the Manager's context has ended, until its loops,
// simulators and informers have stopped.
func (m *Manager) Wait() {
	m.wg.Wait()
	m.mu.Lock()
	conns := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	for _, c := range conns {
		c.cancel()
		c.factory.Shutdown()
		c.managed.Shutdown()
	}
}

// OnConnect adds a hook run after every (re)connection, before the
// connection is used: the deploy workflow re-applies what should run there.
// Register hooks before clusters connect.
func (m *Manager) OnConnect(f func(ctx context.Context, c *Conn)) {
	m.onConnect = append(m.onConnect, f)
}

// Box is the secret box credentials are sealed with.
func (m *Manager) Box() *secret.Box { return m.box }

// OnWorkloadsChanged adds a listener told when a deployment's workloads
// were rewritten from the cluster.
func (m *Manager) OnWorkloadsChanged(f func(deploymentID int)) {
	m.dirtyMu.Lock()
	defer m.dirtyMu.Unlock()
	m.changed = append(m.changed, f)
}

func sys(ctx context.Context) context.Context { return policy.System(ctx) }

// Conn returns the live connection to a cluster, connecting if needed.
func (m *Manager) Conn(ctx context.Context, clusterID int) (*Conn, error) {
	return m.Connect(ctx, clusterID)
}

// Connect connects to a cluster unless it is connected: it reads the server
// version, starts the informers and marks the cluster ready, or records why
// it could not. Connections to one cluster are made one at a time.
func (m *Manager) Connect(ctx context.Context, clusterID int) (*Conn, error) {
	lock := m.connectLock(clusterID)
	lock.Lock()
	defer lock.Unlock()
	m.mu.Lock()
	c, ok := m.conns[clusterID]
	m.mu.Unlock()
	if ok {
		return c, nil
	}
	return m.connect(ctx, clusterID)
}

func (m *Manager) connectLock(clusterID int) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.connecting[clusterID]
	if !ok {
		l = &sync.Mutex{}
		m.connecting[clusterID] = l
	}
	return l
}

func (m *Manager) connect(ctx context.Context, clusterID int) (*Conn, error) {
	ctx = sys(ctx)
	cl, err := m.client.Cluster.Query().Where(cluster.ID(clusterID)).WithContainerManager().Only(ctx)
	if err != nil {
		return nil, err
	}
	if cl.Edges.ContainerManager == nil {
		return nil, fmt.Errorf("cluster %s has no container manager: it is a record only", cl.Name)
	}
	ep, err := m.endpointOf(cl.Edges.ContainerManager)
	if err != nil {
		m.markDown(ctx, clusterID, err)
		return nil, err
	}
	kube := ep.kube
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		err = fmt.Errorf("cluster %s unreachable: %w", cl.Name, err)
		m.markDown(ctx, clusterID, err)
		return nil, err
	}
	cctx, cancel := context.WithCancel(m.ctx)
	c := &Conn{ClusterID: clusterID, TenantID: cl.TenantID, Kube: kube, Version: v.GitVersion, cmID: cl.Edges.ContainerManager.ID, cancel: cancel, ep: ep}
	c.factory = informers.NewSharedInformerFactoryWithOptions(kube, 10*time.Minute)
	m.watchNodes(cctx, c)
	m.watchWorkloads(cctx, c)
	c.factory.Start(cctx.Done())
	c.managed.Start(cctx.Done())
	syncCtx, stop := context.WithTimeout(ctx, defaultTimeout)
	defer stop()
	for _, f := range []informers.SharedInformerFactory{c.factory, c.managed} {
		for typ, ok := range f.WaitForCacheSync(syncCtx.Done()) {
			if !ok {
				cancel()
				err := fmt.Errorf("cluster %s: %v did not sync", cl.Name, typ)
				m.markDown(ctx, clusterID, err)
				return nil, err
			}
		}
	}
	m.mu.Lock()
	m.conns[clusterID] = c
	m.mu.Unlock()
	if err := m.resyncNodes(ctx, c); err != nil {
		return nil, err
	}
	now := time.Now()
	err = m.client.Cluster.UpdateOneID(clusterID).SetReady(true).SetKubernetesVersion(v.GitVersion).
		SetConnectedAt(now).SetLastError("").Exec(ctx)
	for _, f := range m.onConnect {
		f(ctx, c)
	}
	return c, err
}

// Disconnect drops a cluster's connection.
func (m *Manager) Disconnect(clusterID int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.conns[clusterID]; ok {
		c.cancel()
		delete(m.conns, clusterID)
	}
}

func (m *Manager) markDown(ctx context.Context, clusterID int, cause error) {
	msg := operations.Clip(cause.Error())
	if err := m.client.Cluster.UpdateOneID(clusterID).SetReady(false).SetLastError(msg).Exec(sys(ctx)); err != nil {
		m.log.Warn("cluster: recording an outage", "cluster", clusterID, "err", err)
	}
}

// healthLoop checks every connected cluster, and reconnects clusters that
// have a container manager but no connection.
func (m *Manager) healthLoop() {
	t := time.NewTicker(m.o.Health)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.CheckAll(m.ctx)
	}
}

// CheckAll checks each cluster with a container manager once.
func (m *Manager) CheckAll(ctx context.Context) {
	ids, err := m.client.Cluster.Query().Where(cluster.ContainerManagerIDNotNil()).IDs(sys(ctx))
	if err != nil {
		return
	}
	for _, id := range ids {
		m.mu.Lock()
		c, ok := m.conns[id]
		m.mu.Unlock()
		if !ok {
			if _, err := m.Connect(ctx, id); err == nil {
				m.log.Info("cluster: connected", "cluster", id)
			}
			continue
		}
		if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
			m.markDown(ctx, id, fmt.Errorf("unreachable: %w", err))
			m.Disconnect(id)
			continue
		}
		_ = m.client.Cluster.Update().Where(cluster.ID(id), cluster.Ready(false)).SetReady(true).SetLastError("").Exec(sys(ctx))
	}
}

// watchNodes keeps the cluster's Node records in step with Kubernetes.
func (m *Manager) watchNodes(ctx context.Context, c *Conn) {
	inf := c.factory.Core().V1().Nodes().Informer()
	upsert := func(old, obj any) {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		prev, _ := old.(*corev1.Node)
		if err := m.upsertNode(ctx, c, prev, n, false); err != nil && ctx.Err() == nil {
			m.log.Warn("cluster: syncing node", "cluster", c.ClusterID, "node", n.Name, "err", err)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { upsert(nil, obj) },
		UpdateFunc: upsert,
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				_ = m.deleteNode(ctx, c, n.Name)
			}
		},
	})
}

// resyncNodes removes the records of nodes the cluster no longer has.
func (m *Manager) resyncNodes(ctx context.Context, c *Conn) error {
	nodes, err := c.factory.Core().V1().Nodes().Lister().List(labels.Everything())
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.Name] = true
		if err := m.upsertNode(ctx, c, nil, n, true); err != nil {
			return err
		}
	}
	rows, err := m.client.Node.Query().Where(nodeOfCluster(c.ClusterID)).All(sys(ctx))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if !have[r.Name] {
			if err := m.deleteNode(ctx, c, r.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func nodeIP(n *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
	}
	return ""
}

func nodeIsReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func quantity(n *corev1.Node, r corev1.ResourceName, unit int64) int {
	q, ok := n.Status.Capacity[r]
	if !ok {
		return 0
	}
	return int(q.Value() / unit)
}

// NodeLabels returns the Meridian labels of a Kubernetes node.
func NodeLabels(n *corev1.Node) []string {
	var out []string
	for k, v := range n.Labels {
		if len(k) > len(NodeLabelPrefix) && k[:len(NodeLabelPrefix)] == NodeLabelPrefix && v == "true" {
			out = append(out, k[len(NodeLabelPrefix):])
		}
	}
	return out
}

// LabelNodes sets (add) or removes a Meridian label on Kubernetes nodes.
func (c *Conn) LabelNodes(ctx context.Context, label string, nodes []string, add bool) error {
	var value any
	if add {
		value = "true"
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{NodeLabelPrefix + label: value}}})
	if err != nil {
		return err
	}
	for _, n := range nodes {
		_, err := c.Kube.CoreV1().Nodes().Patch(ctx, n, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
		if ignoreNotFound(err) != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
	}
	return nil
}
