package otestack_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/meridianplane/meridian/internal/testenv"
)

// deployWorld is carol's: a simulated cluster, a registry project with an
// image pushed into the embedded registry, an external registry,
// application versions and deployments in each state the examples need.
type deployWorld struct {
	carol, carolID string
	emptyProject   string // a project without images
	v121, unused   string // application version IDs
	d1, d2         string // running 1.2.1; running 1.2.2 after 1.2.1
	d3, d4, d5     string // waiting for audit
	chart          []byte
}

// form is a multipart/form-data body.
type form struct {
	contentType string
	data        []byte
}

// multipartForm builds one (writes to a buffer cannot fail).
func multipartForm(fields map[string]string, file string, content []byte) form {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile(file, "chart.tgz")
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	return form{mw.FormDataContentType(), b.Bytes()}
}

// push puts an image of random layers into the server's embedded registry.
func push(t testing.TB, e *testenv.Env, repo, user, password string) {
	t.Helper()
	if err := pushErr(e, repo, user, password); err != nil {
		t.Fatalf("push %s: %v", repo, err)
	}
}

func pushErr(e *testenv.Env, repo, user, password string) error {
	ref, err := name.ParseReference(strings.TrimPrefix(e.URL, "http://")+"/"+repo, name.Insecure)
	if err != nil {
		return err
	}
	img, err := random.Image(512, 1)
	if err != nil {
		return err
	}
	return remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: password}))
}

// registryTags lists a repository's tags in the embedded registry.
func registryTags(t testing.TB, e *testenv.Env, repo, user, password string) []string {
	t.Helper()
	tags, err := listTags(e, repo, user, password)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == 404 {
			return nil // no such repository
		}
		t.Fatalf("tags of %s: %v", repo, err)
	}
	return tags
}

// listTags lists a repository's tags in the embedded registry as a client
// would, with a registry account or anonymously.
func listTags(e *testenv.Env, repo, user, password string) ([]string, error) {
	r, err := name.NewRepository(strings.TrimPrefix(e.URL, "http://")+"/"+repo, name.Insecure)
	if err != nil {
		return nil, err
	}
	auth := authn.Anonymous
	if user != "" {
		auth = &authn.Basic{Username: user, Password: password}
	}
	tags, err := remote.List(r, remote.WithAuth(auth))
	sort.Strings(tags)
	return tags, err
}

func (w *world) setupDeploy(t testing.TB) {
	t.Helper()
	e := w.e
	dw := &w.dw
	dw.carol, dw.carolID = e.NewUser("carol", "normal")
	c := dw.carol
	e.GQL(c, `mutation { registerCluster(input: {name: "cluster1", simulator: true}) { cluster { id } } }`, nil).OK()
	testenv.Eventually(t, 30*time.Second, func() bool {
		r := e.GQL(c, `{ clusters(where: {name: "cluster1"}) { edges { node { ready nodes { edges { node { name } } } } } } }`, nil).OK()
		return r.Get("clusters.edges.0.node.ready") == true && r.Get("clusters.edges.0.node.nodes.edges.0.node.name") != nil
	})
	node := e.GQL(c, `{ clusterNodes(where: {hasClusterWith: {name: "cluster1"}}) { edges { node { name } } } }`, nil).OK().Str("clusterNodes.edges.0.node.name")
	w.mustOK(t, call{"POST", "/v1/node/label", map[string]any{"nodeLabel": "node1", "clusterName": "cluster1", "nodeName": []string{node}}, c})

	// The registry: a project "test" with test/test-demo1:latest and :v1.
	w.mustOK(t, call{"POST", "/v1/repository/project", map[string]any{"projectName": "test", "public": false}, c})
	r := w.mustOK(t, call{"POST", "/v1/repository/project", map[string]any{"projectName": "empty1", "public": true}, c})
	dw.emptyProject = idOf(r.Body, "data.projectId")
	w.mustOK(t, call{"POST", "/v1/repository/user", map[string]any{"user": "carol-reg", "password": "regpass1"}, c})
	push(t, e, "test/test-demo1:latest", "carol-reg", "regpass1")
	push(t, e, "test/test-demo1:v1", "carol-reg", "regpass1")
	e.GQL(c, `mutation { syncRegistry { id } }`, nil).OK()
	testenv.Eventually(t, 30*time.Second, func() bool {
		return w.do(call{"GET", "/v1/repository/image/tag?imageName=test/test-demo1", nil, c}).Body["total"] == float64(2)
	})

	// Applications: nginx1 1.2.1 and 1.2.2 pulling with yq01; "unused" 1.0.1.
	w.mustOK(t, call{"POST", "/v1/repository/third", map[string]any{"repositoryId": "yq01", "address": "registry.example.com", "user": "puller", "password": "secret1"}, c})
	dw.v121 = idOf(w.mustOK(t, call{"POST", "/v1/app", appBody("nginx1", "yq01"), c}).Body, "data.id")
	w.mustOK(t, call{"POST", "/v1/app", appBody("nginx1", "yq01"), c})
	dw.unused = idOf(w.mustOK(t, call{"POST", "/v1/app", appBody("unused", ""), c}).Body, "data.id")
	dw.chart = testenv.ChartArchive(t, "test1", "0.1.0")

	// Deployments.
	deploy := func(name string) string {
		r := w.mustOK(t, call{"POST", "/v1/deploy", map[string]any{"deployName": name, "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "nodeLabel": "node1"}, c})
		return idOf(r.Body, "data.id")
	}
	status := func(id string) (float64, string) {
		r := w.do(call{"GET", "/v1/deploy/id/" + id, nil, c})
		s, _ := testenv.Path(r.Body, "data.status").(float64)
		v, _ := testenv.Path(r.Body, "data.version").(string)
		return s, v
	}
	dw.d1, dw.d2, dw.d3, dw.d4, dw.d5 = deploy("d1"), deploy("d2"), deploy("d3"), deploy("d4"), deploy("d5")
	for _, id := range []string{dw.d1, dw.d2} {
		w.mustOK(t, call{"PUT", "/v1/admin/deploy", map[string]any{"id": num(id), "status": 0}, w.admin})
	}
	// Running (4) is set just before the install operation finishes: wait
	// for both, or the upgrade below finds the operation in progress (409).
	busy := func(id string) bool {
		return e.GQL(c, `query($d: ID!) { operations(where: {deploymentID: $d, statusIn: [pending, running]}) { totalCount } }`,
			map[string]any{"d": id}).OK().Get("operations.totalCount") != float64(0)
	}
	for _, id := range []string{dw.d1, dw.d2} {
		testenv.Eventually(t, 30*time.Second, func() bool { s, _ := status(id); return s == 4 && !busy(id) })
	}
	w.mustOK(t, call{"POST", "/v1/deploy/id/" + dw.d2, map[string]any{"version": "1.2.2"}, c})
	testenv.Eventually(t, 30*time.Second, func() bool { s, v := status(dw.d2); return s == 4 && v == "1.2.2" })
	// The simulated cluster settles (old pods go) before tests compare
	// snapshots of the database.
	prev := e.Snapshot()
	testenv.Eventually(t, 30*time.Second, func() bool {
		time.Sleep(300 * time.Millisecond)
		cur := e.Snapshot()
		same := cur == prev
		prev = cur
		return same
	})
}

func num(id string) any { return mustNum(id) }

// idOf reads a numeric ID of an answer as text.
func idOf(body map[string]any, path string) string {
	f, _ := testenv.Path(body, path).(float64)
	return strconv.FormatInt(int64(f), 10)
}

func (w *world) mustOK(t testing.TB, c call) *testenv.Response {
	t.Helper()
	r := w.do(c)
	if r.Status/100 != 2 {
		t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Raw)
	}
	return r
}

// appBody is the document's "Create Application" example (without its
// trailing comma).
func appBody(name, repo string) map[string]any {
	b := map[string]any{
		"appName": name, "deployType": "deployment", "image": "nginx:latest", "version": "1.2",
		"replicas": 3, "port": []any{map[string]any{"port": 8080, "hostPort": 9090}}, "command": "",
		"volume": []any{map[string]any{"path": "/host/usr/bin", "hostPath": "/usr/bin", "readOnly": true},
			map[string]any{"path": "/host/usr/sbin", "hostPath": "/usr/sbin", "readOnly": true}},
		"env":         []any{map[string]any{"name": "NGINX_PATH", "value": "/usr/share/nginx/"}},
		"minReplicas": 2, "maxReplicas": 20, "minCPU": 10, "maxCPU": 200, "isHPA": true,
		"targetCPUUtilization": 100, "targetMemUtilization": 150, "minMemory": 100, "maxMemory": 200,
		"maxUnavailable": 1, "maxSurge": 1, "minReadySeconds": 10,
	}
	if repo != "" {
		b["repositoryId"] = repo
	}
	return b
}

// deployExamples are the document's examples of the repository,
// application and deployment endpoints.
func (w *world) deployExamples() map[string]call {
	dw, c, a := &w.dw, w.dw.carol, w.admin
	return map[string]call{
		"listImages":                    {"GET", "/v1/repository/image?projectName=test", nil, c},
		"listImageTags":                 {"GET", "/v1/repository/image/tag?imageName=test/test-demo1", nil, c},
		"deleteImageTags":               {"DELETE", "/v1/repository/image/tag", map[string]any{"imageName": "test/test-demo1", "tag": []string{"v1"}}, c},
		"deleteImages":                  {"DELETE", "/v1/repository/image", map[string]any{"imageName": []string{"test/test-demo1"}}, c},
		"createRepositoryUser":          {"POST", "/v1/repository/user", map[string]any{"user": "user1", "password": "xxxxxx"}, a},
		"updateRepositoryPassword":      {"PUT", "/v1/repository/user", map[string]any{"password": "xxxxxx"}, c},
		"listProjects":                  {"GET", "/v1/repository/project", nil, c},
		"createProject":                 {"POST", "/v1/repository/project", map[string]any{"projectName": "calico", "public": true}, c},
		"deleteProjects":                {"DELETE", "/v1/repository/project", map[string]any{"projectId": []any{num(dw.emptyProject)}}, c},
		"createExternalRegistry":        {"POST", "/v1/repository/third", map[string]any{"repositoryId": "repo1", "address": "127.0.0.1", "user": "user1", "password": "password1"}, c},
		"createExternalRegistryAlias":   {"POST", "/v1/repository", map[string]any{"repositoryId": "repo2", "address": "127.0.0.1", "user": "user1", "password": "password1"}, c},
		"listExternalRegistries":        {"GET", "/v1/repository/third?pageSize=0", nil, c},
		"getExternalRegistry":           {"GET", "/v1/repository/third/repo1", nil, c},
		"deleteExternalRegistries":      {"DELETE", "/v1/repository/third", map[string]any{"repositoryId": []string{"repo1"}}, c},
		"deleteExternalRegistriesAlias": {"DELETE", "/v1/repository", map[string]any{"repositoryId": []string{"repo2"}}, c},
		"createApp":                     {"POST", "/v1/app", appBody("nginx1", "yq01"), c},
		"deleteApps":                    {"DELETE", "/v1/app", map[string]any{"appId": []any{num(dw.unused)}}, c},
		"listApps":                      {"GET", "/v1/app", nil, c},
		"getApp":                        {"GET", "/v1/app/id/" + dw.v121, nil, c},
		"uploadChart":                   {"POST", "/v1/app/chart", multipartForm(map[string]string{"appName": "test1", "version": "1.2"}, "chart", dw.chart), c},
		"createDeploy":                  {"POST", "/v1/deploy", map[string]any{"deployName": "nginx1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "nodeLabel": "node1", "comment": ""}, c},
		"createDeployInstall":           {"POST", "/v1/deploy/install", map[string]any{"deployName": "nginx2", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "nodeLabel": "node1", "comment": ""}, c},
		"deleteDeployByName":            {"DELETE", "/v1/deploy/d3", nil, c},
		"upgradeDeploy":                 {"POST", "/v1/deploy/id/" + dw.d1, map[string]any{"version": "1.2.2"}, c},
		"listDeploys":                   {"GET", "/v1/deploy?pageSize=10&page=1", nil, c},
		"rollbackDeploy":                {"PUT", "/v1/deploy/id/" + dw.d2, map[string]any{"version": "1.2.1", "comment": ""}, c},
		"getDeploy":                     {"GET", "/v1/deploy/id/" + dw.d1, nil, c},
		"deleteDeploy":                  {"DELETE", "/v1/deploy/id/" + dw.d5, nil, c},
		"auditDeploy":                   {"PUT", "/v1/admin/deploy", map[string]any{"id": num(dw.d4), "status": 0, "comment": "xxxx"}, a},
		"auditDeployPost":               {"POST", "/v1/admin/deploy", map[string]any{"id": num(dw.d5), "status": 1, "comment": "xxxx"}, a},
		"listDeployAudits":              {"GET", "/v1/admin/deploy?orderBy=id&order=desc&page=1&pageSize=10", nil, a},
	}
}

// deployOrder runs the examples so that each finds what it needs.
var deployOrder = []string{"listImages", "listImageTags", "deleteImageTags", "deleteImages", "createRepositoryUser",
	"updateRepositoryPassword", "listProjects", "createProject", "deleteProjects", "createExternalRegistry",
	"createExternalRegistryAlias", "listExternalRegistries", "getExternalRegistry", "deleteExternalRegistries",
	"deleteExternalRegistriesAlias", "createApp", "deleteApps", "listApps", "getApp", "uploadChart", "createDeploy",
	"createDeployInstall", "deleteDeployByName", "upgradeDeploy", "listDeploys", "rollbackDeploy", "getDeploy",
	"auditDeployPost", "deleteDeploy", "auditDeploy", "listDeployAudits"}
