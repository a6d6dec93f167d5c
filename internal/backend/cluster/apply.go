package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/meridianplane/meridian/internal/appspec"
)

// Target is what to apply: a deployment's identity and placement, and the
// version's workload.
type Target struct {
	DeploymentID int
	Name         string // the Kubernetes object name
	Namespace    string
	Application  string
	Version      string
	NodeLabel    string // "all" or "" for every node
	NodeName     string // one node, when set
	Spec         *appspec.Workload
	Replicas     int // overrides the spec's replicas when > 0 (scaling)
	// Pull, when set, is the registry credential the pods pull their image
	// with: applied as a kubernetes.io/dockerconfigjson Secret named
	// <name>-pull and referenced as the pods' image pull secret.
	Pull *PullCredential
}

// PullCredential signs in to an image registry.
type PullCredential struct{ Server, Username, Password string }

// pullSecretName is the name of a target's image pull secret.
func (t *Target) pullSecretName() string { return t.Name + "-pull" }

// dockerConfig is the .dockerconfigjson of a credential.
func (p *PullCredential) dockerConfig() ([]byte, error) {
	auth := base64.StdEncoding.EncodeToString([]byte(p.Username + ":" + p.Password))
	return json.Marshal(map[string]any{"auths": map[string]any{p.Server: map[string]string{
		"username": p.Username, "password": p.Password, "auth": auth}}})
}

var nsInvalid = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace returns the Kubernetes namespace of a tenant: unique by the
// tenant's ID (two tenants never share one), readable by its name.
func Namespace(tenantName string, tenantID int) string {
	ns := "mt-" + strconv.FormatInt(int64(tenantID), 36)
	s := strings.Trim(nsInvalid.ReplaceAllString(strings.ToLower(tenantName), "-"), "-")
	if max := 63 - len(ns) - 1; len(s) > max {
		s = strings.Trim(s[:max], "-")
	}
	if s != "" {
		ns += "-" + s
	}
	return ns
}

func (t *Target) labels() map[string]string {
	return map[string]string{
		LabelManagedBy:               ManagedBy,
		"app.kubernetes.io/name":     t.Application,
		"app.kubernetes.io/instance": t.Name,
		LabelDeployment:              strconv.Itoa(t.DeploymentID),
		LabelVersion:                 t.Version,
	}
}

func (t *Target) selector() map[string]string {
	return map[string]string{LabelDeployment: strconv.Itoa(t.DeploymentID)}
}

// podTemplate builds the pod template of a workload of the given kind.
func (t *Target) podTemplate(kind string) *corev1ac.PodTemplateSpecApplyConfiguration {
	w := t.Spec
	ctr := corev1ac.Container().WithName("main").WithImage(w.Image)
	if strings.TrimSpace(w.Command) != "" {
		ctr.WithCommand("/bin/sh", "-c", w.Command)
	}
	for _, p := range w.Ports {
		proto := corev1.Protocol(strings.ToUpper(p.Protocol))
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		cp := corev1ac.ContainerPort().WithContainerPort(int32(p.Port)).WithProtocol(proto)
		if p.HostPort > 0 {
			cp.WithHostPort(int32(p.HostPort))
		}
		ctr.WithPorts(cp)
	}
	for _, e := range w.Env {
		ctr.WithEnv(corev1ac.EnvVar().WithName(e.Name).WithValue(e.Value))
	}
	req, lim := corev1.ResourceList{}, corev1.ResourceList{}
	if w.MinCPU > 0 {
		req[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(w.MinCPU)*10, resource.DecimalSI)
	}
	if w.MaxCPU > 0 {
		lim[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(w.MaxCPU)*10, resource.DecimalSI)
	}
	if w.MinMemory > 0 {
		req[corev1.ResourceMemory] = *resource.NewQuantity(int64(w.MinMemory)<<20, resource.BinarySI)
	}
	if w.MaxMemory > 0 {
		lim[corev1.ResourceMemory] = *resource.NewQuantity(int64(w.MaxMemory)<<20, resource.BinarySI)
	}
	if w.GPU > 0 {
		lim["nvidia.com/gpu"] = *resource.NewQuantity(int64(w.GPU), resource.DecimalSI)
	}
	rr := corev1ac.ResourceRequirements()
	if len(req) > 0 {
		rr.WithRequests(req)
	}
	if len(lim) > 0 {
		rr.WithLimits(lim)
	}
	ctr.WithResources(rr)
	spec := corev1ac.PodSpec()
	for i, v := range w.Volumes {
		name := fmt.Sprintf("vol-%d", i)
		ctr.WithVolumeMounts(corev1ac.VolumeMount().WithName(name).WithMountPath(v.Path).WithReadOnly(v.ReadOnly))
		spec.WithVolumes(corev1ac.Volume().WithName(name).WithHostPath(corev1ac.HostPathVolumeSource().WithPath(v.HostPath)))
	}
	spec.WithContainers(ctr)
	if t.Pull != nil {
		spec.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(t.pullSecretName()))
	}
	if sel := t.nodeSelector(); sel != nil {
		spec.WithNodeSelector(sel)
	}
	lbl := t.labels()
	lbl[LabelWorkload] = kind + "." + t.Name
	return corev1ac.PodTemplateSpec().WithLabels(lbl).WithSpec(spec)
}

func (t *Target) nodeSelector() map[string]string {
	switch {
	case t.NodeName != "":
		return map[string]string{"kubernetes.io/hostname": t.NodeName}
	case t.NodeLabel != "" && t.NodeLabel != "all":
		return map[string]string{NodeLabelPrefix + t.NodeLabel: "true"}
	}
	return nil
}

var applyOpts = metav1.ApplyOptions{FieldManager: FieldManager, Force: true}

// Expect is the replicas a workload target asks for ("Kind.name" to
// count), for RolloutDone; a DaemonSet's count follows the nodes.
func (t *Target) Expect() map[string]int {
	if t.Spec.DeployType == appspec.DaemonSet {
		return nil
	}
	n := t.Spec.DesiredReplicas()
	if t.Replicas > 0 {
		n = t.Replicas
	}
	return map[string]int{"Deployment." + t.Name: n}
}

// Apply applies a deployment's objects with server-side apply.
func (c *Conn) Apply(ctx context.Context, t *Target) error {
	ns := corev1ac.Namespace(t.Namespace).WithLabels(map[string]string{LabelManagedBy: ManagedBy})
	if _, err := c.Kube.CoreV1().Namespaces().Apply(ctx, ns, applyOpts); err != nil {
		return fmt.Errorf("namespace %s: %w", t.Namespace, err)
	}
	if err := c.applyPullSecret(ctx, t); err != nil {
		return err
	}
	w := t.Spec
	switch w.DeployType {
	case appspec.DaemonSet:
		ds := appsv1ac.DaemonSet(t.Name, t.Namespace).WithLabels(t.labels()).WithSpec(
			appsv1ac.DaemonSetSpec().
				WithSelector(metav1ac.LabelSelector().WithMatchLabels(t.selector())).
				WithMinReadySeconds(int32(w.MinReadySeconds)).
				WithTemplate(t.podTemplate("DaemonSet")))
		if w.MaxUnavailable > 0 {
			ds.Spec.WithUpdateStrategy(appsv1ac.DaemonSetUpdateStrategy().WithRollingUpdate(
				appsv1ac.RollingUpdateDaemonSet().WithMaxUnavailable(intstr.FromInt32(int32(w.MaxUnavailable)))))
		}
		if _, err := c.Kube.AppsV1().DaemonSets(t.Namespace).Apply(ctx, ds, applyOpts); err != nil {
			return fmt.Errorf("daemonset %s: %w", t.Name, err)
		}
		// A deployment of the other kind with this name is left over from an
		// older version: remove it.
		_ = ignoreNotFound(c.Kube.AppsV1().Deployments(t.Namespace).Delete(ctx, t.Name, metav1.DeleteOptions{}))
	default:
		replicas := w.DesiredReplicas()
		if t.Replicas > 0 {
			replicas = t.Replicas
		}
		spec := appsv1ac.DeploymentSpec().
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(t.selector())).
			WithMinReadySeconds(int32(w.MinReadySeconds)).
			WithTemplate(t.podTemplate("Deployment"))
		// With an autoscaler the replicas still start at the version's
		// count; the autoscaler moves them from there until the next apply.
		spec.WithReplicas(int32(replicas))
		if w.MaxSurge > 0 || w.MaxUnavailable > 0 {
			spec.WithStrategy(appsv1ac.DeploymentStrategy().WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
				WithMaxSurge(intstr.FromInt32(int32(w.MaxSurge))).WithMaxUnavailable(intstr.FromInt32(int32(w.MaxUnavailable)))))
		}
		d := appsv1ac.Deployment(t.Name, t.Namespace).WithLabels(t.labels()).WithSpec(spec)
		if _, err := c.Kube.AppsV1().Deployments(t.Namespace).Apply(ctx, d, applyOpts); err != nil {
			return fmt.Errorf("deployment %s: %w", t.Name, err)
		}
		_ = ignoreNotFound(c.Kube.AppsV1().DaemonSets(t.Namespace).Delete(ctx, t.Name, metav1.DeleteOptions{}))
	}
	if err := c.applyService(ctx, t); err != nil {
		return err
	}
	return c.applyHPA(ctx, t)
}

func (c *Conn) applyPullSecret(ctx context.Context, t *Target) error {
	if t.Pull == nil {
		return ignoreNotFound(c.Kube.CoreV1().Secrets(t.Namespace).Delete(ctx, t.pullSecretName(), metav1.DeleteOptions{}))
	}
	cfg, err := t.Pull.dockerConfig()
	if err != nil {
		return err
	}
	sec := corev1ac.Secret(t.pullSecretName(), t.Namespace).WithLabels(t.labels()).
		WithType(corev1.SecretTypeDockerConfigJson).WithData(map[string][]byte{corev1.DockerConfigJsonKey: cfg})
	if _, err := c.Kube.CoreV1().Secrets(t.Namespace).Apply(ctx, sec, applyOpts); err != nil {
		return fmt.Errorf("pull secret %s: %w", t.pullSecretName(), err)
	}
	return nil
}

func (c *Conn) applyService(ctx context.Context, t *Target) error {
	if len(t.Spec.Ports) == 0 {
		return ignoreNotFound(c.Kube.CoreV1().Services(t.Namespace).Delete(ctx, t.Name, metav1.DeleteOptions{}))
	}
	spec := corev1ac.ServiceSpec().WithSelector(t.selector())
	for _, p := range t.Spec.Ports {
		proto := corev1.Protocol(strings.ToUpper(p.Protocol))
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		spec.WithPorts(corev1ac.ServicePort().WithName(fmt.Sprintf("%s-%d", strings.ToLower(string(proto)), p.Port)).
			WithPort(int32(p.Port)).WithTargetPort(intstr.FromInt32(int32(p.Port))).WithProtocol(proto))
	}
	svc := corev1ac.Service(t.Name, t.Namespace).WithLabels(t.labels()).WithSpec(spec)
	if _, err := c.Kube.CoreV1().Services(t.Namespace).Apply(ctx, svc, applyOpts); err != nil {
		return fmt.Errorf("service %s: %w", t.Name, err)
	}
	return nil
}

func (c *Conn) applyHPA(ctx context.Context, t *Target) error {
	w := t.Spec
	if !w.IsHPA || w.DeployType != appspec.Deployment {
		return ignoreNotFound(c.Kube.AutoscalingV2().HorizontalPodAutoscalers(t.Namespace).Delete(ctx, t.Name, metav1.DeleteOptions{}))
	}
	spec := autoscalingv2ac.HorizontalPodAutoscalerSpec().
		WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().WithAPIVersion("apps/v1").WithKind("Deployment").WithName(t.Name)).
		WithMaxReplicas(int32(w.MaxReplicas))
	if w.MinReplicas > 0 {
		spec.WithMinReplicas(int32(w.MinReplicas))
	}
	metric := func(r corev1.ResourceName, pct int) *autoscalingv2ac.MetricSpecApplyConfiguration {
		return autoscalingv2ac.MetricSpec().WithType(autoscalingv2.ResourceMetricSourceType).WithResource(
			autoscalingv2ac.ResourceMetricSource().WithName(r).WithTarget(
				autoscalingv2ac.MetricTarget().WithType(autoscalingv2.UtilizationMetricType).WithAverageUtilization(int32(pct))))
	}
	if w.TargetCPUUtilization > 0 {
		spec.WithMetrics(metric(corev1.ResourceCPU, w.TargetCPUUtilization))
	}
	if w.TargetMemUtilization > 0 {
		spec.WithMetrics(metric(corev1.ResourceMemory, w.TargetMemUtilization))
	}
	hpa := autoscalingv2ac.HorizontalPodAutoscaler(t.Name, t.Namespace).WithLabels(t.labels()).WithSpec(spec)
	if _, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(t.Namespace).Apply(ctx, hpa, applyOpts); err != nil {
		return fmt.Errorf("horizontal pod autoscaler %s: %w", t.Name, err)
	}
	return nil
}

// Delete removes a deployment's objects.
func (c *Conn) Delete(ctx context.Context, namespace, name string) error {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	for _, err := range []error{
		c.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Delete(ctx, name, opts),
		c.Kube.CoreV1().Services(namespace).Delete(ctx, name, opts),
		c.Kube.CoreV1().Secrets(namespace).Delete(ctx, name+"-pull", opts),
		c.Kube.AppsV1().Deployments(namespace).Delete(ctx, name, opts),
		c.Kube.AppsV1().DaemonSets(namespace).Delete(ctx, name, opts),
	} {
		if err := ignoreNotFound(err); err != nil {
			return err
		}
	}
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// RolloutError is a rollout that failed in the cluster.
type RolloutError struct{ Reason string }

func (e *RolloutError) Error() string { return "rollout failed: " + e.Reason }

// RolloutDone reports whether every workload of the deployment runs
// version with all its pods of that version ready. It fails when the
// rollout has failed: a pod of the new version cannot start (image pull,
// crash loop...) or the deadline (RolloutDeadline after since, when the
// version was applied) has passed. It reads the informer caches of the
// live connection and does not wait, so an operation can snooze between
// checks instead of holding a worker.
//
// want, when set, holds the replicas Meridian just asked of a workload
// ("Kind.name"): the informer cache may still show the previous count.
func (m *Manager) RolloutDone(ctx context.Context, clusterID, deploymentID int, namespace, version string, want map[string]int, since time.Time) (bool, error) {
	c, err := m.Conn(ctx, clusterID) // the live connection: it may have been remade
	if err != nil {
		return false, err
	}
	ws, err := m.observe(c, deploymentID, namespace)
	if err != nil {
		return false, err
	}
	done, readyNew, wanted := len(ws) > 0, 0, 0
	for _, w := range ws {
		ready, old := 0, 0
		for _, p := range w.Pods {
			if p.Labels[LabelVersion] != version {
				old++
				continue
			}
			ok, reason := podState(p)
			if ok {
				ready++
			}
			if reason != "" {
				msg := podMessage(p)
				if msg != "" {
					msg = ": " + msg
				}
				return false, &RolloutError{Reason: fmt.Sprintf("pod %s: %s%s", p.Name, reason, msg)}
			}
		}
		readyNew, wanted = readyNew+ready, wanted+w.Desired
		if n, ok := want[w.Kind+"."+w.Name]; ok && n != w.Desired {
			done = false
		}
		if w.Version != version || w.Seen < w.Generation || ready < w.Desired || old > 0 || len(w.Pods) != w.Desired {
			done = false
		}
	}
	if done {
		return true, nil
	}
	if time.Since(since) > m.o.RolloutDeadline {
		return false, &RolloutError{Reason: fmt.Sprintf("not ready after %s (%d of %d pods of version %s ready)", m.o.RolloutDeadline, readyNew, wanted, version)}
	}
	return false, nil
}

// HasWorkloads reports whether the cluster (the informer caches of the live
// connection) holds any workload of the deployment.
func (m *Manager) HasWorkloads(ctx context.Context, clusterID, deploymentID int, namespace string) (bool, error) {
	c, err := m.Conn(ctx, clusterID)
	if err != nil {
		return false, err
	}
	ws, err := m.observe(c, deploymentID, namespace)
	return len(ws) > 0, err
}

// eligibleNodes counts the ready nodes a node selector admits.
func (c *Conn) eligibleNodes(sel map[string]string) (int, error) {
	nodes, err := c.factory.Core().V1().Nodes().Lister().List(labels.SelectorFromSet(sel))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, nd := range nodes {
		if nodeIsReady(nd) {
			n++
		}
	}
	return n, nil
}
