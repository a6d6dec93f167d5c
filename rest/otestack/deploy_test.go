package otestack_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meridianplane/meridian/internal/testenv"
)

// TestRepositoryAndDeployAnswers follows the repository, application and
// deployment flow and checks the values the document shows, in the
// database, the registry and the cluster.
func TestRepositoryAndDeployAnswers(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		w := setup(t, db)
		e, c := w.e, w.dw.carol

		// Images and tags, as pushed.
		r := w.do(call{"GET", "/v1/repository/image?projectName=test", nil, c})
		img := testenv.Path(r.Body, "data.0").(map[string]any)
		if r.Body["total"] != float64(1) || img["imageName"] != "test/test-demo1" || img["projectName"] != "test" || img["public"] != false ||
			img["imageAddress"] != e.Server.Repository.Host()+"/test/test-demo1" {
			t.Errorf("images: %s", r.Raw)
		}
		if r := w.do(call{"GET", "/v1/repository/image?projectName=test&imageName=nomatch", nil, c}); r.Body["total"] != float64(0) {
			t.Errorf("image name filter: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/repository/project", nil, c})
		if testenv.Path(r.Body, "data.0.projectName") != "test" || testenv.Path(r.Body, "data.0.imageCount") != float64(1) {
			t.Errorf("projects: %s", r.Raw)
		}
		// Public projects are readable by everyone; private ones are not.
		r = w.do(call{"GET", "/v1/repository/project", nil, w.alice})
		if r.Body["total"] != float64(1) || testenv.Path(r.Body, "data.0.projectName") != "empty1" {
			t.Errorf("alice sees carol's public project only: %s", r.Raw)
		}
		// A tag deleted through Meridian is gone from the registry.
		w.mustOK(t, call{"DELETE", "/v1/repository/image/tag", map[string]any{"imageName": "test/test-demo1", "tag": []string{"v1"}}, c})
		testenv.Eventually(t, 30*time.Second, func() bool {
			return w.do(call{"GET", "/v1/repository/image/tag?imageName=test/test-demo1", nil, c}).Body["total"] == float64(1)
		})
		// The list hides a tag once it is marked deleting; its operation
		// deletes it from the registry a moment later.
		testenv.Eventually(t, 30*time.Second, func() bool {
			return reflect.DeepEqual(registryTags(t, e, "test/test-demo1", "carol-reg", "regpass1"), []string{"latest"})
		})
		// So is a deleted image, and a sync does not bring it back.
		w.mustOK(t, call{"DELETE", "/v1/repository/image", map[string]any{"imageName": []string{"test/test-demo1"}}, c})
		testenv.Eventually(t, 30*time.Second, func() bool {
			return w.do(call{"GET", "/v1/repository/image?projectName=test", nil, c}).Body["total"] == float64(0)
		})
		testenv.Eventually(t, 30*time.Second, func() bool {
			return len(registryTags(t, e, "test/test-demo1", "carol-reg", "regpass1")) == 0
		})
		if n, err := e.Server.Repository.SyncNow(context.Background()); err != nil || n != 0 {
			t.Errorf("sync after deletion: %d images, %v", n, err)
		}
		// The registry asks for an account, and keeps tenants apart.
		push(t, e, "test/test-demo2:v1", "carol-reg", "regpass1")
		w.mustOK(t, call{"POST", "/v1/repository/user", map[string]any{"user": "alice-reg", "password": "regpass9"}, w.alice})
		if tags, err := listTags(e, "test/test-demo2", "alice-reg", "regpass9"); err == nil {
			t.Errorf("alice pulled from carol's private project: %v", tags)
		}
		if tags, err := listTags(e, "test/test-demo2", "", ""); err == nil {
			t.Errorf("anonymous pull from a private project: %v", tags)
		}
		push(t, e, "empty1/open:v1", "carol-reg", "regpass1")
		if tags, err := listTags(e, "empty1/open", "", ""); err != nil || !reflect.DeepEqual(tags, []string{"v1"}) {
			t.Errorf("anonymous pull from a public project: %v %v", tags, err)
		}
		if err := pushErr(e, "empty1/mine:v1", "alice-reg", "regpass9"); err == nil {
			t.Errorf("alice pushed into carol's public project")
		}
		if err := pushErr(e, "nosuch/img:v1", "carol-reg", "regpass1"); err == nil {
			t.Errorf("a push outside any project was accepted")
		}

		// External registries: the password is never returned.
		r = w.do(call{"GET", "/v1/repository/third/yq01", nil, c})
		if testenv.Path(r.Body, "data.user") != "puller" || testenv.Path(r.Body, "data.address") != "registry.example.com" {
			t.Errorf("external registry: %s", r.Raw)
		}
		if _, ok := r.Body["data"].(map[string]any)["password"]; ok {
			t.Errorf("password returned: %s", r.Raw)
		}

		// Applications: x.y.N versions, cores, the registry.
		r = w.do(call{"GET", "/v1/app/id/" + w.dw.v121, nil, c})
		d := r.Body["data"].(map[string]any)
		if d["version"] != "1.2.1" || d["appName"] != "nginx1" || d["minCPU"] != 0.1 || d["maxCPU"] != float64(2) ||
			d["repositoryId"] != "yq01" || d["status"] != float64(1) || d["deployType"] != "deployment" || d["replicas"] != float64(3) {
			t.Errorf("app: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/app?pageSize=0", nil, c})
		if r.Body["total"] != float64(3) || len(r.Body["apps"].([]any)) != 3 {
			t.Errorf("apps: %s", r.Raw)
		}

		// Deployments: status, deployType, errorMessage, editable.
		r = w.do(call{"GET", "/v1/deploy/id/" + w.dw.d2, nil, c})
		d = r.Body["data"].(map[string]any)
		var counts map[string]int
		_ = json.Unmarshal([]byte(d["errorMessage"].(string)), &counts)
		if d["status"] != float64(4) || d["deployType"] != float64(1) || d["version"] != "1.2.2" || d["editable"] != true ||
			d["cluster"] != "cluster1" || d["nodeLabel"] != "node1" || counts["running"] != 3 || counts["total"] != 3 || counts["error"] != 0 {
			t.Errorf("deployment d2: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/deploy/id/" + w.dw.d3, nil, c})
		if testenv.Path(r.Body, "data.status") != float64(2) || testenv.Path(r.Body, "data.editable") != false {
			t.Errorf("deployment d3 waits for audit: %s", r.Raw)
		}
		// The pull secret of yq01 is in the cluster, and the pods use it.
		conn, err := e.Server.Clusters.Conn(context.Background(), clusterID(w, "cluster1"))
		if err != nil {
			t.Fatal(err)
		}
		ns := namespaceOf(w, w.dw.d1)
		sec, err := conn.Kube.CoreV1().Secrets(ns).Get(context.Background(), "d1-pull", metav1.GetOptions{})
		if err != nil || sec.Type != corev1.SecretTypeDockerConfigJson {
			t.Fatalf("pull secret: %v %v", sec, err)
		}
		var cfg struct {
			Auths map[string]struct{ Username, Password string } `json:"auths"`
		}
		_ = json.Unmarshal(sec.Data[corev1.DockerConfigJsonKey], &cfg)
		if a := cfg.Auths["registry.example.com"]; a.Username != "puller" || a.Password != "secret1" {
			t.Errorf("pull secret: %s", sec.Data[corev1.DockerConfigJsonKey])
		}
		dep, err := conn.Kube.AppsV1().Deployments(ns).Get(context.Background(), "d1", metav1.GetOptions{})
		if err != nil || len(dep.Spec.Template.Spec.ImagePullSecrets) != 1 || dep.Spec.Template.Spec.ImagePullSecrets[0].Name != "d1-pull" {
			t.Errorf("pods' pull secret: %v %v", dep, err)
		}
		// A rejected deployment never touches the cluster.
		w.mustOK(t, call{"PUT", "/v1/admin/deploy", map[string]any{"id": num(w.dw.d3), "status": 1, "comment": "no"}, w.admin})
		r = w.do(call{"GET", "/v1/deploy/id/" + w.dw.d3, nil, c})
		if testenv.Path(r.Body, "data.status") != float64(1) || testenv.Path(r.Body, "data.auditComment") != "no" {
			t.Errorf("rejected: %s", r.Raw)
		}
		if _, err := conn.Kube.AppsV1().Deployments(ns).Get(context.Background(), "d3", metav1.GetOptions{}); err == nil {
			t.Errorf("a rejected deployment reached the cluster")
		}
		// An approved one runs; a tenant with auto-deploy skips the audit.
		w.mustOK(t, call{"PUT", "/v1/admin/deploy", map[string]any{"id": num(w.dw.d4), "status": 0}, w.admin})
		testenv.Eventually(t, 30*time.Second, func() bool {
			return testenv.Path(w.do(call{"GET", "/v1/deploy/id/" + w.dw.d4, nil, c}).Body, "data.status") == float64(4)
		})
		tid := e.GQL(c, `{ me { tenant { id } } }`, nil).OK().Str("me.tenant.id")
		e.GQL(w.admin, `mutation($id: ID!) { updateTenant(id: $id, input: {enableAdminAutoDeploy: true}) { id } }`, map[string]any{"id": tid}).OK()
		r = w.mustOK(t, call{"POST", "/v1/deploy", map[string]any{"deployName": "auto1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1"}, c})
		if testenv.Path(r.Body, "data.status") != float64(0) {
			t.Errorf("auto-deploy: %s", r.Raw)
		}
		// The audit list filters by business.
		e.GQL(c, `mutation { createBusiness(input: {name: "carols"}) { id } }`, nil).OK()
		r = w.do(call{"GET", "/v1/admin/deploy?businessName=carols&pageSize=0", nil, w.admin})
		if r.Body["total"] != float64(6) {
			t.Errorf("audit list by business: %s", r.Raw)
		}
		if r := w.do(call{"GET", "/v1/admin/deploy?businessName=bobs", nil, w.admin}); r.Body["total"] != float64(0) {
			t.Errorf("audit list of bob's business: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/admin/deploy?orderBy=id&order=asc&pageSize=2&page=1", nil, w.admin})
		if testenv.Path(r.Body, "data.0.deployName") != "d1" || testenv.Path(r.Body, "data.1.deployName") != "d2" {
			t.Errorf("audit list order: %s", r.Raw)
		}

		// REST and GraphQL agree.
		for _, tok := range []string{c, w.admin} {
			w.agree(t, tok, "deployments", `{ deployments { totalCount edges { node { id name version { version } } } } }`, "deployments",
				"/v1/deploy?pageSize=0", "data", []string{"node.id", "node.name", "node.version.version"}, []string{"id", "deployName", "version"})
			w.agree(t, tok, "apps", `{ applicationVersions { totalCount edges { node { id version application { name } } } } }`, "applicationVersions",
				"/v1/app?pageSize=0", "apps", []string{"node.id", "node.application.name", "node.version"}, []string{"id", "appName", "version"})
			w.agree(t, tok, "projects", `{ registryProjects { totalCount edges { node { id name public imageCount } } } }`, "registryProjects",
				"/v1/repository/project?pageSize=0", "data", []string{"node.id", "node.name", "node.public", "node.imageCount"}, []string{"projectId", "projectName", "public", "imageCount"})
		}
	})
}

// agree checks that a REST list and a GraphQL connection hold the same rows:
// gqlFields of each edge against restFields of each item (IDs as numbers).
func (w *world) agree(t *testing.T, tok, what, query, conn, path, key string, gqlFields, restFields []string) {
	t.Helper()
	g := w.e.GQL(tok, query, nil).OK()
	r := w.do(call{"GET", path, nil, tok})
	var want, got []any
	for _, ed := range g.Get(conn + ".edges").([]any) {
		row := []any{}
		for _, f := range gqlFields {
			v := testenv.Path(ed, f)
			if f == "node.id" {
				v = mustNum(v.(string))
			}
			row = append(row, v)
		}
		want = append(want, row)
	}
	items, _ := r.Body[key].([]any)
	for _, it := range items {
		row := []any{}
		for _, f := range restFields {
			row = append(row, it.(map[string]any)[f])
		}
		got = append(got, row)
	}
	if !reflect.DeepEqual(got, want) || r.Body["total"] != g.Get(conn+".totalCount") {
		t.Errorf("%s: REST %v (total %v), GraphQL %v (total %v)", what, got, r.Body["total"], want, g.Get(conn+".totalCount"))
	}
}

func clusterID(w *world, name string) int {
	return int(mustNum(w.e.GQL(w.admin, `query($n: String!) { clusters(where: {name: $n}) { edges { node { id } } } }`, map[string]any{"n": name}).OK().Str("clusters.edges.0.node.id")))
}

func namespaceOf(w *world, deploymentID string) string {
	return w.e.GQL(w.admin, `query($id: ID!) { node(id: $id) { ... on Deployment { namespace } } }`, map[string]any{"id": deploymentID}).OK().Str("node.namespace")
}
