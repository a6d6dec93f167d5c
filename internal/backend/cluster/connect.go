// Package cluster is the Kubernetes backend: it connects to clusters with
// client-go (real ones through a kubeconfig or an API server token, and the
// built-in simulator through client-go's fake clientset), watches nodes and
// workloads with informers and reports them to an Observer, and applies
// workloads with server-side apply and charts with the Helm SDK. It knows
// no tables: the workflow that owns the records (internal/deploy) says how
// to reach a cluster (Inventory) and writes what the backend observes
// (Observer). Nothing outside this package knows whether a cluster is
// simulated.
package cluster

import (
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meridianplane/meridian/internal/backend/cluster/sim"
)

// endpoint is how to talk to one cluster: a clientset, and either the REST
// config of a real API server or the simulated cluster.
type endpoint struct {
	kube kubernetes.Interface
	rest *rest.Config
	sim  *sim.Cluster
}

// endpointOf builds the endpoint an Access describes.
func (m *Manager) endpointOf(a *Access) (*endpoint, error) {
	switch {
	case a.Simulator:
		s := m.simulator(a.SimulatorKey)
		return &endpoint{kube: s.Clientset, sim: s}, nil
	case len(a.Kubeconfig) > 0:
		cfg, err := clientcmd.RESTConfigFromKubeConfig(a.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		return newEndpoint(cfg)
	case a.APIServer != "":
		cfg := &rest.Config{
			Host:        a.APIServer,
			BearerToken: a.Token,
			TLSClientConfig: rest.TLSClientConfig{
				CAData:   []byte(a.CACert),
				Insecure: a.InsecureSkipTLSVerify,
			},
		}
		return newEndpoint(cfg)
	}
	return nil, fmt.Errorf("cluster %s: no way to reach it", a.Name)
}

func newEndpoint(cfg *rest.Config) (*endpoint, error) {
	cfg.UserAgent = "meridian"
	cfg.QPS, cfg.Burst = 50, 100
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &endpoint{kube: kube, rest: cfg}, nil
}

// CheckKubeconfig validates a kubeconfig before it is stored. Everything
// must be inline: a kubeconfig that runs a command (exec plugins, auth
// providers) or names files on the server (token, certificate and key
// paths) is refused, since it would run or read them on Meridian's host.
func CheckKubeconfig(raw []byte) error {
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return err
	}
	for name, a := range kc.AuthInfos {
		switch {
		case a.Exec != nil:
			return fmt.Errorf("user %q uses an exec plugin; give a token or inline client certificate instead", name)
		case a.AuthProvider != nil:
			return fmt.Errorf("user %q uses an auth provider; give a token or inline client certificate instead", name)
		case a.TokenFile != "" || a.ClientCertificate != "" || a.ClientKey != "":
			return fmt.Errorf("user %q refers to files; put the token, certificate and key inline", name)
		case a.Impersonate != "" || len(a.ImpersonateGroups) > 0:
			return fmt.Errorf("user %q impersonates; give the credentials of the user itself", name)
		}
	}
	for name, c := range kc.Clusters {
		if c.CertificateAuthority != "" {
			return fmt.Errorf("cluster %q refers to a CA file; put certificate-authority-data inline", name)
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*kc, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return err
	}
	if cfg.Host == "" {
		return errors.New("it names no API server")
	}
	return nil
}

// simulator returns the simulated cluster of a key, starting it on first
// use. Its state lives in this process.
func (m *Manager) simulator(key int) *sim.Cluster {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sims[key]; ok {
		return s
	}
	s := sim.New(m.o.SimulatorNodes)
	if m.o.SimulatorTick > 0 {
		s.Tick = m.o.SimulatorTick
	}
	m.sims[key] = s
	m.wg.Add(1)
	go func() { defer m.wg.Done(); s.Run(m.ctx) }()
	return s
}

// Simulator returns the simulated cluster behind a cluster, for tests and
// demos that inject failures; nil when the cluster is not simulated.
func (m *Manager) Simulator(clusterID int) *sim.Cluster {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.conns[clusterID]; ok {
		return m.sims[c.simKey]
	}
	return nil
}
