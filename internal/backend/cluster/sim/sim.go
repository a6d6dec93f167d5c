// Package sim is the built-in simulated Kubernetes cluster: client-go's fake
// clientset (with field management, so server-side apply works) plus a small
// kubelet and controller that move Deployments, DaemonSets and pods through
// their real states. It can be told to fail images, crash them, drop a node
// or become unreachable. The cluster backend drives it with the same
// client-go code it uses for real clusters.
package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Version is the Kubernetes version the simulator reports.
const Version = "v1.35.1-meridian-sim"

// ownerAnnotation ties a simulated pod to its controller.
const ownerAnnotation = "sim.meridian.io/owner"

// Cluster is one simulated cluster.
type Cluster struct {
	Clientset *fake.Clientset
	Tick      time.Duration

	mu          sync.Mutex
	failImages  []string
	crashImages []string
	unreachable bool
}

// New returns a simulated cluster with n ready nodes (node-1..node-n).
func New(n int) *Cluster {
	cs := fake.NewClientset()
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{
		Major: "1", Minor: "35", GitVersion: Version, Platform: "linux/amd64",
	}
	c := &Cluster{Clientset: cs, Tick: 100 * time.Millisecond}
	cs.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.unreachable {
			return true, nil, errors.New("dial tcp: connect: connection refused (simulated cluster unreachable)")
		}
		return false, nil, nil
	})
	cs.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.unreachable {
			return true, nil, errors.New("simulated cluster unreachable")
		}
		return false, nil, nil
	})
	for i := 1; i <= n; i++ {
		_, _ = cs.CoreV1().Nodes().Create(context.Background(), newNode(i), metav1.CreateOptions{})
	}
	return c
}

func newNode(i int) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("node-%d", i),
			Labels: map[string]string{"kubernetes.io/hostname": fmt.Sprintf("node-%d", i), "kubernetes.io/os": "linux"},
		},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.0.0.%d", 10+i)}, {Type: corev1.NodeHostName, Address: fmt.Sprintf("node-%d", i)}},
			NodeInfo: corev1.NodeSystemInfo{
				OperatingSystem: "linux", Architecture: "amd64", KernelVersion: "6.1.0-sim",
				KubeletVersion: Version, OSImage: "Meridian simulated node", ContainerRuntimeVersion: "containerd://sim",
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110"),
			},
		},
	}
}

// FailImages makes pods whose image contains substr fail to pull.
func (c *Cluster) FailImages(substr string) {
	c.mu.Lock()
	c.failImages = append(c.failImages, substr)
	c.mu.Unlock()
}

// CrashImages makes pods whose image contains substr crash-loop.
func (c *Cluster) CrashImages(substr string) {
	c.mu.Lock()
	c.crashImages = append(c.crashImages, substr)
	c.mu.Unlock()
}

// SetReachable makes every API call fail (false) or work again (true).
func (c *Cluster) SetReachable(ok bool) { c.mu.Lock(); c.unreachable = !ok; c.mu.Unlock() }

// SetNodeReady marks a node ready or not; pods on a node that is not ready fail.
func (c *Cluster) SetNodeReady(ctx context.Context, name string, ready bool) error {
	n, err := c.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	st := corev1.ConditionTrue
	if !ready {
		st = corev1.ConditionFalse
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, Reason: "Simulated"}}
	_, err = c.Clientset.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (c *Cluster) imageFate(image string) (fail, crash bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.failImages {
		if strings.Contains(image, s) {
			fail = true
		}
	}
	for _, s := range c.crashImages {
		if strings.Contains(image, s) {
			crash = true
		}
	}
	return
}

func (c *Cluster) reachable() bool { c.mu.Lock(); defer c.mu.Unlock(); return !c.unreachable }

// Run moves the simulated cluster along until ctx ends.
func (c *Cluster) Run(ctx context.Context) {
	t := time.NewTicker(c.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.reachable() {
			_ = c.Step(ctx)
		}
	}
}

// Step runs one round of the kubelet and controllers.
func (c *Cluster) Step(ctx context.Context) error {
	nodes, err := c.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	pods, err := c.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := map[string]*corev1.Node{}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if nodeReady(n) {
			ready[n.Name] = n
		}
	}
	byOwner := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		c.kubelet(ctx, p, ready)
		byOwner[p.Annotations[ownerAnnotation]] = append(byOwner[p.Annotations[ownerAnnotation]], p)
	}
	deps, err := c.Clientset.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range deps.Items {
		c.deployment(ctx, &deps.Items[i], byOwner, nodes.Items, ready)
	}
	dss, err := c.Clientset.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range dss.Items {
		c.daemonSet(ctx, &dss.Items[i], byOwner, nodes.Items, ready)
	}
	// Pods whose owner is gone are deleted (garbage collection).
	live := map[string]bool{}
	for _, d := range deps.Items {
		live[owner("Deployment", d.Namespace, d.Name)] = true
	}
	for _, d := range dss.Items {
		live[owner("DaemonSet", d.Namespace, d.Name)] = true
	}
	for o, ps := range byOwner {
		if o != "" && !live[o] {
			for _, p := range ps {
				_ = c.Clientset.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
			}
		}
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func owner(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// kubelet moves a pod through its phases.
func (c *Cluster) kubelet(ctx context.Context, p *corev1.Pod, ready map[string]*corev1.Node) {
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		return
	}
	before := p.Status.DeepCopy()
	if p.Spec.NodeName == "" {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "no ready node matches the node selector"}}
	} else if ready[p.Spec.NodeName] == nil {
		p.Status.Phase = corev1.PodFailed
		p.Status.Reason = "NodeLost"
		p.Status.Message = "node " + p.Spec.NodeName + " is not ready"
		setReady(p, false)
	} else {
		image := ""
		if len(p.Spec.Containers) > 0 {
			image = p.Spec.Containers[0].Image
		}
		fail, crash := c.imageFate(image)
		p.Status.HostIP = ready[p.Spec.NodeName].Status.Addresses[0].Address
		if p.Status.PodIP == "" {
			p.Status.PodIP = podIP(p.Name)
		}
		switch {
		case fail:
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: image, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image \"" + image + "\""}}}}
			setReady(p, false)
		case crash:
			restarts := int32(0)
			if len(p.Status.ContainerStatuses) > 0 {
				restarts = p.Status.ContainerStatuses[0].RestartCount + 1
			}
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: image, RestartCount: restarts, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting failed container"}}}}
			setReady(p, false)
		case p.Status.Phase == "":
			p.Status.Phase = corev1.PodPending // pulling; running on the next step
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: image, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
		default:
			if p.Status.StartTime == nil {
				now := metav1.Now()
				p.Status.StartTime = &now
			}
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: image, Ready: true, Started: ptr(true),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *p.Status.StartTime}}}}
			setReady(p, true)
		}
	}
	if !equalJSON(before, &p.Status) {
		_, _ = c.Clientset.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.JSONPatchType, statusPatch(p.Status), metav1.PatchOptions{}, "status")
	}
}

func ptr[T any](v T) *T { return &v }

// statusPatch is a JSON patch that replaces an object's whole status and
// nothing else, so that the simulated controllers never write back a spec
// they read earlier (a real API server ignores spec in status updates; the
// fake tracker does not).
func statusPatch(status any) []byte {
	b, _ := json.Marshal([]map[string]any{{"op": "add", "path": "/status", "value": status}})
	return b
}

func setReady(p *corev1.Pod, ok bool) {
	st := corev1.ConditionFalse
	if ok {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: st},
		{Type: corev1.ContainersReady, Status: st},
	}
}

func podIP(name string) string {
	h := sha256.Sum256([]byte(name))
	return fmt.Sprintf("10.244.%d.%d", h[0], 1+int(h[1])%253)
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func templateHash(t *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:10]
}

// eligible are the ready nodes a template may run on, in name order.
func eligible(t *corev1.PodTemplateSpec, nodes []corev1.Node, ready map[string]*corev1.Node) []string {
	sel := labels.SelectorFromSet(t.Spec.NodeSelector)
	var out []string
	for _, n := range nodes {
		if ready[n.Name] != nil && sel.Matches(labels.Set(n.Labels)) {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

func podUsable(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (c *Cluster) newPod(t *corev1.PodTemplateSpec, ns, ownerKey, name, node, hash string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels:      map[string]string{"pod-template-hash": hash},
			Annotations: map[string]string{ownerAnnotation: ownerKey},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	for k, v := range t.Labels {
		p.Labels[k] = v
	}
	p.Spec.NodeName = node
	return p
}

// deployment keeps the deployment's pods at its replicas and template.
func (c *Cluster) deployment(ctx context.Context, d *appsv1.Deployment, byOwner map[string][]*corev1.Pod, nodes []corev1.Node, ready map[string]*corev1.Node) {
	key := owner("Deployment", d.Namespace, d.Name)
	hash := templateHash(&d.Spec.Template)
	want := 1
	if d.Spec.Replicas != nil {
		want = int(*d.Spec.Replicas)
	}
	var current, old []*corev1.Pod
	for _, p := range byOwner[key] {
		switch {
		case !podUsable(p):
			_ = c.Clientset.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		case p.Labels["pod-template-hash"] == hash:
			current = append(current, p)
		default:
			old = append(old, p)
		}
	}
	targets := eligible(&d.Spec.Template, nodes, ready)
	used := map[string]bool{}
	for _, p := range current {
		used[p.Name] = true
	}
	for i := 0; len(current) < want; i++ {
		name := fmt.Sprintf("%s-%s-%d", d.Name, hash[:5], i)
		if used[name] {
			continue
		}
		node := ""
		if len(targets) > 0 {
			node = targets[(len(current))%len(targets)]
		}
		p := c.newPod(&d.Spec.Template, d.Namespace, key, name, node, hash)
		if created, err := c.Clientset.CoreV1().Pods(d.Namespace).Create(ctx, p, metav1.CreateOptions{}); err == nil {
			current = append(current, created)
		}
		used[name] = true
	}
	sort.Slice(current, func(i, j int) bool { return current[i].Name < current[j].Name })
	for len(current) > want {
		p := current[len(current)-1]
		_ = c.Clientset.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		current = current[:len(current)-1]
	}
	readyNew := 0
	for _, p := range current {
		if podReady(p) {
			readyNew++
		}
	}
	// Old pods go once the new ones are ready (a simple rolling update).
	if readyNew >= want {
		for _, p := range old {
			_ = c.Clientset.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		}
		old = nil
	}
	readyOld := 0
	for _, p := range old {
		if podReady(p) {
			readyOld++
		}
	}
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            int32(len(current) + len(old)),
		UpdatedReplicas:     int32(len(current)),
		ReadyReplicas:       int32(readyNew + readyOld),
		AvailableReplicas:   int32(readyNew + readyOld),
		UnavailableReplicas: int32(max(0, want-readyNew-readyOld)),
	}
	if !equalJSON(st, d.Status) {
		d.Status = st
		_, _ = c.Clientset.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.JSONPatchType, statusPatch(st), metav1.PatchOptions{}, "status")
	}
}

// daemonSet keeps one pod on every eligible node.
func (c *Cluster) daemonSet(ctx context.Context, d *appsv1.DaemonSet, byOwner map[string][]*corev1.Pod, nodes []corev1.Node, ready map[string]*corev1.Node) {
	key := owner("DaemonSet", d.Namespace, d.Name)
	hash := templateHash(&d.Spec.Template)
	targets := eligible(&d.Spec.Template, nodes, ready)
	onNode := map[string]*corev1.Pod{}
	for _, p := range byOwner[key] {
		want := false
		for _, n := range targets {
			if n == p.Spec.NodeName {
				want = true
			}
		}
		if !podUsable(p) || !want || p.Labels["pod-template-hash"] != hash || onNode[p.Spec.NodeName] != nil {
			_ = c.Clientset.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
			continue
		}
		onNode[p.Spec.NodeName] = p
	}
	readyN := 0
	for _, n := range targets {
		p := onNode[n]
		if p == nil {
			np := c.newPod(&d.Spec.Template, d.Namespace, key, fmt.Sprintf("%s-%s-%s", d.Name, hash[:5], n), n, hash)
			if created, err := c.Clientset.CoreV1().Pods(d.Namespace).Create(ctx, np, metav1.CreateOptions{}); err == nil {
				p = created
			}
		}
		if p != nil && podReady(p) {
			readyN++
		}
	}
	st := appsv1.DaemonSetStatus{
		ObservedGeneration:     d.Generation,
		DesiredNumberScheduled: int32(len(targets)),
		CurrentNumberScheduled: int32(len(targets)),
		UpdatedNumberScheduled: int32(len(targets)),
		NumberReady:            int32(readyN),
		NumberAvailable:        int32(readyN),
		NumberUnavailable:      int32(len(targets) - readyN),
	}
	if !equalJSON(st, d.Status) {
		d.Status = st
		_, _ = c.Clientset.AppsV1().DaemonSets(d.Namespace).Patch(ctx, d.Name, types.JSONPatchType, statusPatch(st), metav1.PatchOptions{}, "status")
	}
}
