package cluster

import (
	"context"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
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
			o.LabelSelector = LabelDeployment // what Meridian deployed, charts included
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

// observedWorkload is what the informers say about one workload object
// (a Deployment or DaemonSet) of a deployment.
type observedWorkload struct {
	Kind, Name          string
	Version             string // the object's version label
	Generation, Seen    int64
	Desired             int // pods wanted: replicas, or eligible nodes
	CPUMilli, MemoryMiB int
	Pods                []*corev1.Pod
}

// observe reads a deployment's workloads and their pods from the informer
// caches. A deployment of a workload spec has one; a chart may have several.
func (m *Manager) observe(c *Conn, id int, namespace string) ([]*observedWorkload, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelDeployment: strconv.Itoa(id)})
	var out []*observedWorkload
	add := func(kind, name string, lbl map[string]string, gen, seen int64, desired int, tmpl *corev1.PodTemplateSpec) {
		w := &observedWorkload{Kind: kind, Name: name, Version: lbl[LabelVersion], Generation: gen, Seen: seen, Desired: desired}
		if len(tmpl.Spec.Containers) > 0 {
			req := tmpl.Spec.Containers[0].Resources.Requests
			w.CPUMilli = int(req.Cpu().MilliValue())
			w.MemoryMiB = int(req.Memory().Value() >> 20)
		}
		out = append(out, w)
	}
	deps, err := c.managed.Apps().V1().Deployments().Lister().Deployments(namespace).List(sel)
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		desired := 1
		if d.Spec.Replicas != nil {
			desired = int(*d.Spec.Replicas)
		}
		add("Deployment", d.Name, d.Labels, d.Generation, d.Status.ObservedGeneration, desired, &d.Spec.Template)
	}
	dss, err := c.managed.Apps().V1().DaemonSets().Lister().DaemonSets(namespace).List(sel)
	if err != nil {
		return nil, err
	}
	for _, d := range dss {
		desired, err := c.eligibleNodes(d.Spec.Template.Spec.NodeSelector)
		if err != nil {
			return nil, err
		}
		add("DaemonSet", d.Name, d.Labels, d.Generation, d.Status.ObservedGeneration, desired, &d.Spec.Template)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Name < out[j].Kind+out[j].Name })
	pods, err := c.managed.Core().V1().Pods().Lister().Pods(namespace).List(sel)
	if err != nil {
		return nil, err
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, w := range out {
			if p.Labels[LabelWorkload] == w.Kind+"."+w.Name || (len(out) == 1 && p.Labels[LabelWorkload] == "") {
				w.Pods = append(w.Pods, p)
			}
		}
	}
	return out, nil
}

// syncWorkloads rewrites a deployment's Workload rows and pod counts.
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
	ws, err := m.observe(c, d.ID, d.Namespace)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ws))
	running, failingN, total := 0, 0, 0
	for _, w := range ws {
		names = append(names, w.Name)
		var pods []appspec.Pod
		wRunning, wFailing := 0, 0
		for _, p := range w.Pods {
			ready, reason := podState(p)
			if ready {
				wRunning++
			}
			if reason != "" {
				wFailing++
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
		running, failingN, total = running+wRunning, failingN+wFailing, total+len(pods)
		err = m.client.Workload.Create().SetDeploymentID(id).SetName(w.Name).
			SetKind(workload.Kind(w.Kind)).SetReplicas(w.Desired).SetCPU(w.CPUMilli).SetMemory(w.MemoryMiB).
			SetRunningPods(wRunning).SetErrorPods(wFailing).SetTotalPods(len(pods)).SetPods(pods).
			OnConflictColumns(workload.FieldDeploymentID, workload.FieldName).UpdateNewValues().Exec(ctx)
		if err != nil {
			return err
		}
	}
	if _, err := m.client.Workload.Delete().Where(workload.DeploymentID(id), workload.NameNotIn(names...)).Exec(ctx); err != nil {
		return err
	}
	return m.client.Deployment.Update().Where(deployment.ID(id)).
		SetRunningPods(running).SetErrorPods(failingN).SetTotalPods(total).Exec(ctx)
}
