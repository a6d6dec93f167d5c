package cluster

import (
	"context"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/appspec"
)

// watchWorkloads marks deployments dirty when their objects or pods change.
func (m *Manager) watchWorkloads(ctx context.Context, c *Conn) {
	c.managed = informers.NewSharedInformerFactoryWithOptions(c.Kube, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = LabelManagedBy + "=" + ManagedBy
		}))
	mark := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		o, ok := obj.(metav1.Object)
		if !ok {
			return
		}
		if id, err := strconv.Atoi(o.GetLabels()[LabelDeployment]); err == nil {
			m.markDirty(id)
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: mark, UpdateFunc: func(_, o any) { mark(o) }, DeleteFunc: mark}
	for _, inf := range []cache.SharedIndexInformer{
		c.managed.Apps().V1().Deployments().Informer(),
		c.managed.Apps().V1().DaemonSets().Informer(),
		c.managed.Core().V1().Pods().Informer(),
	} {
		_, _ = inf.AddEventHandler(h)
	}
}

func (m *Manager) markDirty(id int) {
	m.dirtyMu.Lock()
	m.dirty[id] = true
	m.dirtyMu.Unlock()
}

func (m *Manager) flushLoop() {
	t := time.NewTicker(m.o.Flush)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.Flush(m.ctx)
	}
}

// Flush writes the workloads of every deployment that changed.
func (m *Manager) Flush(ctx context.Context) {
	m.dirtyMu.Lock()
	ids := make([]int, 0, len(m.dirty))
	for id := range m.dirty {
		ids = append(ids, id)
	}
	m.dirty = map[int]bool{}
	listeners := append([]func(int){}, m.changed...)
	m.dirtyMu.Unlock()
	for _, id := range ids {
		if err := m.syncWorkloads(ctx, id); err != nil {
			if ctx.Err() == nil && !ent.IsNotFound(err) {
				m.log.Warn("cluster: syncing workloads", "deployment", id, "err", err)
			}
			continue
		}
		for _, f := range listeners {
			f(id)
		}
	}
}

// Failure reasons that mean a pod will not become ready by waiting.
var failing = map[string]bool{
	"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true, "CrashLoopBackOff": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true, "NodeLost": true, "Evicted": true,
}

// podState summarises a pod: ready, and the failure reason if it is failing.
func podState(p *corev1.Pod) (ready bool, reason string) {
	if p.Status.Phase == corev1.PodFailed {
		r := p.Status.Reason
		if r == "" {
			r = "Failed"
		}
		return false, r
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && failing[w.Reason] {
			return false, w.Reason
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true, ""
		}
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == "Unschedulable" {
			return false, ""
		}
	}
	return false, ""
}

func podMessage(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Message != "" {
			return w.Message
		}
	}
	return p.Status.Message
}

// observed is what the informers say about one deployment.
type observed struct {
	exists              bool
	kind                string
	generation, seen    int64
	desired, ready, upd int
	pods                []*corev1.Pod
	cpuMilli, memoryMiB int
}

// deploymentRef names a deployment's objects.
type deploymentRef struct {
	ID              int
	Namespace, Name string
}

// observeRef reads a deployment's objects and pods from the informer caches.
func (m *Manager) observeRef(c *Conn, d *deploymentRef) (*observed, error) {
	o := &observed{}
	sel := labels.SelectorFromSet(labels.Set{LabelDeployment: strconv.Itoa(d.ID)})
	pods, err := c.managed.Core().V1().Pods().Lister().Pods(d.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			o.pods = append(o.pods, p)
		}
	}
	sort.Slice(o.pods, func(i, j int) bool { return o.pods[i].Name < o.pods[j].Name })
	var tmpl *corev1.PodTemplateSpec
	if dep, err := c.managed.Apps().V1().Deployments().Lister().Deployments(d.Namespace).Get(d.Name); err == nil {
		o.exists, o.kind, tmpl = true, "Deployment", &dep.Spec.Template
		o.generation, o.seen = dep.Generation, dep.Status.ObservedGeneration
		o.desired = 1
		if dep.Spec.Replicas != nil {
			o.desired = int(*dep.Spec.Replicas)
		}
		o.ready, o.upd = int(dep.Status.ReadyReplicas), int(dep.Status.UpdatedReplicas)
		if int(dep.Status.Replicas) > o.desired { // old pods still going
			o.upd = min(o.upd, o.desired-1)
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	} else if ds, err := c.managed.Apps().V1().DaemonSets().Lister().DaemonSets(d.Namespace).Get(d.Name); err == nil {
		o.exists, o.kind, tmpl = true, "DaemonSet", &ds.Spec.Template
		o.generation, o.seen = ds.Generation, ds.Status.ObservedGeneration
		o.desired, o.ready, o.upd = int(ds.Status.DesiredNumberScheduled), int(ds.Status.NumberReady), int(ds.Status.UpdatedNumberScheduled)
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	if tmpl != nil && len(tmpl.Spec.Containers) > 0 {
		req := tmpl.Spec.Containers[0].Resources.Requests
		o.cpuMilli = int(req.Cpu().MilliValue())
		o.memoryMiB = int(req.Memory().Value() >> 20)
	}
	return o, nil
}

// syncWorkloads rewrites a deployment's Workload row and pod counts.
func (m *Manager) syncWorkloads(ctx context.Context, id int) error {
	ctx = sys(ctx)
	d, err := m.client.Deployment.Get(ctx, id)
	if err != nil {
		return err
	}
	m.mu.Lock()
	c, ok := m.conns[d.ClusterID]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	o, err := m.observeRef(c, &deploymentRef{ID: d.ID, Namespace: d.Namespace, Name: d.Name})
	if err != nil {
		return err
	}
	if !o.exists {
		if _, err := m.client.Workload.Delete().Where(workload.DeploymentID(id)).Exec(ctx); err != nil {
			return err
		}
		return m.client.Deployment.UpdateOneID(id).SetRunningPods(0).SetErrorPods(0).SetTotalPods(len(o.pods)).Exec(ctx)
	}
	var pods []appspec.Pod
	running, failingN := 0, 0
	for _, p := range o.pods {
		ready, reason := podState(p)
		if ready {
			running++
		}
		if reason != "" {
			failingN++
		}
		restarts := 0
		for _, cs := range p.Status.ContainerStatuses {
			restarts += int(cs.RestartCount)
		}
		var started int64
		if p.Status.StartTime != nil {
			started = p.Status.StartTime.Unix()
		}
		pods = append(pods, appspec.Pod{
			Name: p.Name, IP: p.Status.PodIP, Node: p.Spec.NodeName, NodeIP: p.Status.HostIP,
			Phase: string(p.Status.Phase), Ready: ready, Restarts: restarts, Reason: reason, Started: started,
		})
	}
	err = m.client.Workload.Create().SetDeploymentID(id).SetTenantID(d.TenantID).SetName(d.Name).
		SetKind(workload.Kind(o.kind)).SetReplicas(o.desired).SetCPU(o.cpuMilli).SetMemory(o.memoryMiB).
		SetRunningPods(running).SetErrorPods(failingN).SetTotalPods(len(pods)).SetPods(pods).
		OnConflictColumns(workload.FieldDeploymentID, workload.FieldName).UpdateNewValues().Exec(ctx)
	if err != nil {
		return err
	}
	return m.client.Deployment.Update().Where(deployment.ID(id)).
		SetRunningPods(running).SetErrorPods(failingN).SetTotalPods(len(pods)).Exec(ctx)
}
