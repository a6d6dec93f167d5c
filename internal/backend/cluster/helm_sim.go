package cluster

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes/scheme"
	fakerest "k8s.io/client-go/rest/fake"
	k8stesting "k8s.io/client-go/testing"

	"helm.sh/helm/v3/pkg/kube"

	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
)

// simKube is Helm's kube.Interface for the simulated cluster: manifests are
// decoded with client-go's scheme and written to the fake clientset's
// object tracker, where the simulated controllers pick them up.
type simKube struct {
	sim *sim.Cluster
	ns  string
}

var _ kube.Interface = (*simKube)(nil)

func (k *simKube) tracker() k8stesting.ObjectTracker { return k.sim.Clientset.Tracker() }

// exclusive holds the fake clientset's lock, which every client call (the
// simulator's status patches included) holds while its reactors read and
// write the tracker: Helm's read-modify-write of an object then cannot
// interleave with a status patch that would write the old spec back.
func (k *simKube) exclusive() func() {
	k.sim.Clientset.Lock()
	return k.sim.Clientset.Unlock
}

// clusterScoped are the kinds without a namespace that charts commonly hold.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "PersistentVolume": true,
	"StorageClass": true, "PriorityClass": true, "CustomResourceDefinition": true, "Node": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "APIService": true,
}

// Build decodes a YAML stream into resource infos.
func (k *simKube) Build(r io.Reader, _ bool) (kube.ResourceList, error) {
	var out kube.ResourceList
	dec := yamlutil.NewYAMLOrJSONDecoder(r, 4096)
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(raw.Raw)) == 0 || string(bytes.TrimSpace(raw.Raw)) == "null" {
			continue
		}
		obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(raw.Raw, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("the simulated cluster knows only built-in Kubernetes kinds: %v", err)
		}
		acc, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		gvr, _ := meta.UnsafeGuessKindToResource(*gvk)
		scope := meta.RESTScopeNamespace
		ns := acc.GetNamespace()
		if clusterScoped[gvk.Kind] {
			scope, ns = meta.RESTScopeRoot, ""
		} else if ns == "" {
			ns = k.ns
			acc.SetNamespace(ns)
		}
		out = append(out, &resource.Info{
			Name: acc.GetName(), Namespace: ns, Object: obj,
			Mapping: &meta.RESTMapping{Resource: gvr, GroupVersionKind: *gvk, Scope: scope},
			Client:  k.restClient(gvk.GroupVersion(), gvr),
		})
	}
	return out, nil
}

// restClient answers the GETs Helm makes through resource.Helper (to find
// resources that already exist) from the tracker.
func (k *simKube) restClient(gv schema.GroupVersion, gvr schema.GroupVersionResource) *fakerest.RESTClient {
	return &fakerest.RESTClient{
		GroupVersion:         gv,
		NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		Client: fakerest.CreateHTTPClient(func(req *http.Request) (*http.Response, error) {
			parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
			ns, name := "", parts[len(parts)-1]
			for i := 0; i+1 < len(parts); i++ {
				if parts[i] == "namespaces" && i+2 < len(parts) {
					ns = parts[i+1]
				}
			}
			obj, err := k.tracker().Get(gvr, ns, name)
			header := http.Header{"Content-Type": []string{runtime.ContentTypeJSON}}
			if err != nil {
				status := apierrors.NewNotFound(gvr.GroupResource(), name).ErrStatus
				if !apierrors.IsNotFound(err) {
					status = apierrors.NewInternalError(err).ErrStatus
				}
				body, _ := runtime.Encode(scheme.Codecs.LegacyCodec(metav1.SchemeGroupVersion), &status)
				return &http.Response{StatusCode: int(status.Code), Header: header, Body: io.NopCloser(bytes.NewReader(body))}, nil
			}
			body, err := runtime.Encode(scheme.Codecs.LegacyCodec(gv), obj)
			if err != nil {
				return nil, err
			}
			return &http.Response{StatusCode: http.StatusOK, Header: header, Body: io.NopCloser(bytes.NewReader(body))}, nil
		}),
	}
}

// Create writes resources.
func (k *simKube) Create(resources kube.ResourceList) (*kube.Result, error) {
	defer k.exclusive()()
	for _, info := range resources {
		if err := k.tracker().Create(info.Mapping.Resource, info.Object, info.Namespace); err != nil {
			return nil, fmt.Errorf("%s %s: %w", info.Mapping.GroupVersionKind.Kind, info.Name, err)
		}
	}
	return &kube.Result{Created: resources}, nil
}

// Update makes the cluster hold target: changed resources are replaced,
// new ones created, and those only in original deleted.
func (k *simKube) Update(original, target kube.ResourceList, _ bool) (*kube.Result, error) {
	defer k.exclusive()()
	res := &kube.Result{}
	for _, info := range target {
		existing, err := k.tracker().Get(info.Mapping.Resource, info.Namespace, info.Name)
		switch {
		case apierrors.IsNotFound(err):
			if err := k.tracker().Create(info.Mapping.Resource, info.Object, info.Namespace); err != nil {
				return res, err
			}
			res.Created = append(res.Created, info)
		case err != nil:
			return res, err
		default:
			if acc, err := meta.Accessor(info.Object); err == nil {
				if old, err := meta.Accessor(existing); err == nil {
					acc.SetResourceVersion(old.GetResourceVersion())
				}
			}
			if err := k.tracker().Update(info.Mapping.Resource, info.Object, info.Namespace); err != nil {
				return res, err
			}
			res.Updated = append(res.Updated, info)
		}
	}
	for _, info := range original {
		if target.Get(info) == nil {
			if err := k.tracker().Delete(info.Mapping.Resource, info.Namespace, info.Name); err != nil && !apierrors.IsNotFound(err) {
				return res, err
			}
			res.Deleted = append(res.Deleted, info)
		}
	}
	return res, nil
}

// Delete removes resources.
func (k *simKube) Delete(resources kube.ResourceList) (*kube.Result, []error) {
	defer k.exclusive()()
	res := &kube.Result{}
	var errs []error
	for _, info := range resources {
		if err := k.tracker().Delete(info.Mapping.Resource, info.Namespace, info.Name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		res.Deleted = append(res.Deleted, info)
	}
	return res, errs
}

// Meridian waits for rollouts itself (RolloutDone), so Helm's waits return
// at once.
func (k *simKube) Wait(kube.ResourceList, time.Duration) error            { return nil }
func (k *simKube) WaitWithJobs(kube.ResourceList, time.Duration) error    { return nil }
func (k *simKube) WatchUntilReady(kube.ResourceList, time.Duration) error { return nil }
func (k *simKube) WaitForDelete(kube.ResourceList, time.Duration) error   { return nil }

// WaitAndGetCompletedPodPhase reports hook pods as succeeded: the
// simulator runs no containers.
func (k *simKube) WaitAndGetCompletedPodPhase(string, time.Duration) (corev1.PodPhase, error) {
	return corev1.PodSucceeded, nil
}

// IsReachable asks the simulated API server for its version.
func (k *simKube) IsReachable() error {
	_, err := k.sim.Clientset.Discovery().ServerVersion()
	return err
}
