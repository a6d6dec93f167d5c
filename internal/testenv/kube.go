package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// KubeAPIServer is a real kube-apiserver with etcd, started for tests.
type KubeAPIServer struct {
	URL        string
	Token      string
	Kubeconfig []byte
	procs      []*exec.Cmd
	dir        string
}

// kubeBinaries finds kube-apiserver (bin/ of the repository, or
// MERIDIAN_KUBE_APISERVER) and etcd (PATH, or MERIDIAN_ETCD).
func kubeBinaries() (apiserver, etcd string, ok bool) {
	apiserver = os.Getenv("MERIDIAN_KUBE_APISERVER")
	if apiserver == "" {
		_, file, _, _ := runtime.Caller(0)
		apiserver = filepath.Join(filepath.Dir(file), "..", "..", "bin", "kube-apiserver")
	}
	etcd = os.Getenv("MERIDIAN_ETCD")
	if etcd == "" {
		etcd, _ = exec.LookPath("etcd")
	}
	if _, err := os.Stat(apiserver); err != nil || etcd == "" {
		return "", "", false
	}
	return apiserver, etcd, true
}

// HaveKubeAPIServer reports whether the binaries are there (`make kube-testenv`).
func HaveKubeAPIServer() bool {
	_, _, ok := kubeBinaries()
	return ok
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartKubeAPIServer starts etcd and kube-apiserver in a temporary
// directory and waits until the API server is ready. Stop ends both.
func StartKubeAPIServer() (*KubeAPIServer, error) {
	apiserver, etcdBin, ok := kubeBinaries()
	if !ok {
		return nil, fmt.Errorf("kube-apiserver or etcd missing: run make kube-testenv")
	}
	dir, err := os.MkdirTemp("", "meridian-kube-")
	if err != nil {
		return nil, err
	}
	k := &KubeAPIServer{dir: dir, Token: "meridian-test-token"}
	clientPort, peerPort, apiPort := freePort(), freePort(), freePort()
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	etcd := exec.Command(etcdBin, "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", peerPort))
	etcd.Env = append(os.Environ(), "ETCD_UNSUPPORTED_ARCH=amd64")
	if err := k.start(etcd, "etcd.log"); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "sa.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(k.Token+",admin,admin-uid,system:masters\n"), 0o600); err != nil {
		return nil, err
	}
	api := exec.Command(apiserver,
		"--etcd-servers", etcdURL,
		"--cert-dir", filepath.Join(dir, "certs"),
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(apiPort),
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--allow-privileged=true",
		"--authorization-mode", "AlwaysAllow",
		"--token-auth-file", tokenFile,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", keyFile,
		"--service-account-signing-key-file", keyFile,
		"--disable-admission-plugins", "ServiceAccount",
		"--enable-priority-and-fairness=false",
	)
	if err := k.start(api, "kube-apiserver.log"); err != nil {
		k.Stop()
		return nil, err
	}
	k.URL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, k.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+k.Token)
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(filepath.Join(dir, "kube-apiserver.log"))
			k.Stop()
			return nil, fmt.Errorf("kube-apiserver not ready after 90s: %v\n%s", err, tail(string(logs), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.Kubeconfig = []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context:
    cluster: test
    user: admin
current-context: test
`, k.URL, k.Token))
	return k, nil
}

func (k *KubeAPIServer) start(cmd *exec.Cmd, logName string) error {
	f, err := os.Create(filepath.Join(k.dir, logName))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", cmd.Path, err)
	}
	k.procs = append(k.procs, cmd)
	return nil
}

// Stop ends kube-apiserver and etcd and removes their files.
func (k *KubeAPIServer) Stop() {
	for i := len(k.procs) - 1; i >= 0; i-- {
		p := k.procs[i]
		_ = p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
		}
	}
	_ = os.RemoveAll(k.dir)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
