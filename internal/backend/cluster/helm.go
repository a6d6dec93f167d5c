package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/meridianplane/meridian/internal/backend/chart"
)

// ChartTarget is a Helm release of a deployment.
type ChartTarget struct {
	DeploymentID int
	Release      string // the release name: the deployment's name
	Namespace    string
	Version      string // Meridian's version x.y.N, kept as a release label
	Archive      []byte
	Values       string // YAML
}

// helm returns Helm's action configuration for a namespace of this cluster:
// releases are stored as Secrets in the cluster, as Helm keeps them.
func (c *Conn) helm(namespace string) *action.Configuration {
	cfg := &action.Configuration{
		Releases: storage.Init(driver.NewSecrets(c.Kube.CoreV1().Secrets(namespace))),
		Log:      func(string, ...any) {},
	}
	if c.ep.sim != nil {
		cfg.KubeClient = &simKube{sim: c.ep.sim, ns: namespace}
		caps := *chartutil.DefaultCapabilities
		cfg.Capabilities = &caps
	} else {
		getter := &restGetter{cfg: c.ep.rest, ns: namespace}
		kc := kube.New(getter)
		kc.Namespace = namespace
		cfg.RESTClientGetter = getter
		cfg.KubeClient = kc
	}
	return cfg
}

// workloadKinds finds the pod-owning objects Meridian follows in a manifest.
var workloadKinds = regexp.MustCompile(`(?m)^kind:\s*(Deployment|DaemonSet)\s*$`)

// Tracked reports whether a release renders workloads Meridian follows
// (Deployments, DaemonSets); a chart of only other kinds has no rollout to
// wait for.
func Tracked(manifest string) bool { return workloadKinds.MatchString(manifest) }

// HelmApply installs the release, or upgrades it to the target's chart. It
// reports whether the release has workloads to wait for.
func (c *Conn) HelmApply(ctx context.Context, t *ChartTarget) (bool, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(t.Archive))
	if err != nil {
		return false, err
	}
	vals, err := chart.Values(t.Values)
	if err != nil {
		return false, err
	}
	ns := corev1ac.Namespace(t.Namespace).WithLabels(map[string]string{LabelManagedBy: ManagedBy})
	if _, err := c.Kube.CoreV1().Namespaces().Apply(ctx, ns, applyOpts); err != nil {
		return false, fmt.Errorf("namespace %s: %w", t.Namespace, err)
	}
	cfg := c.helm(t.Namespace)
	labels := map[string]string{LabelVersion: t.Version}
	post := &labeler{deployment: t.DeploymentID, version: t.Version}
	var rel *release.Release
	_, err = cfg.Releases.Last(t.Release)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.Labels, in.PostRenderer = t.Release, t.Namespace, labels, post
		in.DisableOpenAPIValidation = c.ep.sim != nil
		rel, err = in.RunWithContext(ctx, ch, vals)
	case err != nil:
		return false, err
	default:
		up := action.NewUpgrade(cfg)
		up.Namespace, up.Labels, up.PostRenderer, up.MaxHistory = t.Namespace, labels, post, 20
		up.DisableOpenAPIValidation = c.ep.sim != nil
		rel, err = up.RunWithContext(ctx, t.Release, ch, vals)
	}
	if err != nil {
		return false, fmt.Errorf("helm: %w", err)
	}
	return Tracked(rel.Manifest), nil
}

// HelmRollback rolls the release back to the last revision that ran
// version, through Helm's rollback. It reports whether the release has
// workloads to wait for.
func (c *Conn) HelmRollback(ctx context.Context, name, namespace, version string) (bool, error) {
	cfg := c.helm(namespace)
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return false, fmt.Errorf("helm: release history: %w", err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version > hist[j].Version })
	var target *release.Release
	for _, r := range hist {
		if r.Labels[LabelVersion] == version && r.Info != nil && r.Info.Status != release.StatusFailed {
			target = r
			break
		}
	}
	if target == nil {
		return false, fmt.Errorf("helm: release %s has no revision of version %s", name, version)
	}
	rb := action.NewRollback(cfg)
	rb.Version, rb.MaxHistory = target.Version, 20
	if err := rb.Run(name); err != nil {
		return false, fmt.Errorf("helm: %w", err)
	}
	return Tracked(target.Manifest), nil
}

// HelmReleaseExists reports whether the release is in the cluster.
func (c *Conn) HelmReleaseExists(name, namespace string) (bool, error) {
	_, err := c.helm(namespace).Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return false, nil
	}
	return err == nil, err
}

// HelmHistory returns the release's revisions, newest last.
func (c *Conn) HelmHistory(name, namespace string) ([]*release.Release, error) {
	hist, err := c.helm(namespace).Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	return hist, err
}

// HelmUninstall removes the release.
func (c *Conn) HelmUninstall(_ context.Context, name, namespace string) error {
	un := action.NewUninstall(c.helm(namespace))
	un.IgnoreNotFound = true
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("helm: %w", err)
	}
	return nil
}

// labeler is the post-renderer that labels what a chart renders, and the
// pod templates inside, so Meridian follows its workloads and pods.
type labeler struct {
	deployment int
	version    string
}

var podTemplated = map[string]bool{"Deployment": true, "DaemonSet": true, "StatefulSet": true, "ReplicaSet": true, "Job": true}

func (l *labeler) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	dec := yamlutil.NewYAMLOrJSONDecoder(in, 4096)
	var out bytes.Buffer
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("post-render: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		kind, _ := obj["kind"].(string)
		md, _ := obj["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		set := map[string]string{LabelDeployment: strconv.Itoa(l.deployment), LabelVersion: l.version}
		setLabels(obj, set, "metadata")
		if podTemplated[kind] {
			tmpl := map[string]string{LabelWorkload: kind + "." + name}
			for k, v := range set {
				tmpl[k] = v
			}
			setLabels(obj, tmpl, "spec", "template", "metadata")
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return &out, nil
}

// setLabels merges labels into the map at path (created when missing).
func setLabels(obj map[string]any, set map[string]string, path ...string) {
	m := obj
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	lbl, ok := m["labels"].(map[string]any)
	if !ok {
		lbl = map[string]any{}
		m["labels"] = lbl
	}
	for k, v := range set {
		lbl[k] = v
	}
}

// restGetter gives Helm's kube client a REST config, discovery and mapping
// for a real cluster.
type restGetter struct {
	cfg *rest.Config
	ns  string
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.ns},
	})
}
