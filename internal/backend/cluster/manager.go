package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
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

// Manager keeps one connection per cluster. It implements Backend.
type Manager struct {
	inv Inventory
	obs Observer
	o   Options
	log *slog.Logger
	ctx context.Context

	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      map[int]*Conn
	connecting map[int]*sync.Mutex
	sims       map[int]*sim.Cluster

	dirtyMu sync.Mutex
	dirty   map[int]placed // deployments whose workloads changed
}

// placed is where a deployment's objects are.
type placed struct {
	clusterID int
	namespace string
}

// Conn is a live connection to one cluster.
type Conn struct {
	ClusterID int
	Kube      kubernetes.Interface
	Version   string

	simKey  int
	ep      *endpoint
	factory informers.SharedInformerFactory // nodes
	managed informers.SharedInformerFactory // what Meridian applied, and its pods
	cancel  context.CancelFunc
}

// New returns a Manager; it works until ctx ends. Call Observe before
// clusters connect.
func New(ctx context.Context, o Options) *Manager {
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
	m := &Manager{o: o, log: o.Log, ctx: ctx,
		conns: map[int]*Conn{}, connecting: map[int]*sync.Mutex{}, sims: map[int]*sim.Cluster{}, dirty: map[int]placed{}}
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

// Observe sets the Inventory clusters are reached through and the
// Observer told what they do.
func (m *Manager) Observe(inv Inventory, obs Observer) {
	m.inv, m.obs = inv, obs
}

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
	if m.inv == nil {
		return nil, fmt.Errorf("cluster %d: the backend has no inventory", clusterID)
	}
	acc, err := m.inv.Access(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	ep, err := m.endpointOf(acc)
	if err != nil {
		m.obs.Down(ctx, clusterID, err)
		return nil, err
	}
	kube := ep.kube
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		err = fmt.Errorf("cluster %s unreachable: %w", acc.Name, err)
		m.obs.Down(ctx, clusterID, err)
		return nil, err
	}
	cctx, cancel := context.WithCancel(m.ctx)
	c := &Conn{ClusterID: clusterID, Kube: kube, Version: v.GitVersion, simKey: acc.SimulatorKey, cancel: cancel, ep: ep}
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
				err := fmt.Errorf("cluster %s: %v did not sync", acc.Name, typ)
				m.obs.Down(ctx, clusterID, err)
				return nil, err
			}
		}
	}
	m.mu.Lock()
	m.conns[clusterID] = c
	m.mu.Unlock()
	nodes, err := c.nodes()
	if err != nil {
		return nil, err
	}
	if err := m.obs.NodesListed(ctx, clusterID, nodes); err != nil {
		return nil, err
	}
	return c, m.obs.Connected(ctx, c)
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
	if m.inv == nil {
		return
	}
	ids, err := m.inv.Reachable(ctx)
	if err != nil {
		m.log.Warn("cluster: listing clusters to check", "err", err)
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
			m.obs.Down(ctx, id, fmt.Errorf("unreachable: %w", err))
			m.Disconnect(id)
			continue
		}
		m.obs.Healthy(ctx, id)
	}
}
