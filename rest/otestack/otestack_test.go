package otestack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/rest/otestack"
)

const secret = "otestack-test-secret"

// world is a server with two tenants' worth of data.
type world struct {
	e                 *testenv.Env
	admin, alice, bob string // tokens
	aliceID, bobID    string
	business, bobBiz  string // alice's and bob's business IDs
	pendingID         string // a self-registered user awaiting audit
	spare, spare2     string // admin tokens for the logout examples
	dw                deployWorld
}

func setup(t *testing.T, db testenv.Database) *world {
	t.Helper()
	e := testenv.Start(t, db, func(c *config.Config) { c.JWTSecret = secret })
	w := &world{e: e, admin: e.AdminToken()}
	w.alice, w.aliceID = e.NewUser("alice", "normal")
	w.bob, w.bobID = e.NewUser("bob", "normal")
	for _, c := range []struct{ tok, cluster, node string }{
		{w.alice, "GuangZhou", "GZ1"}, {w.alice, "BeiJing", "BJ1"}, {w.bob, "Shanghai", "SH1"},
	} {
		cid := e.GQL(c.tok, `mutation($n: String!) { createCluster(input: {name: $n, ready: true}) { id } }`, map[string]any{"n": c.cluster}).OK().Str("createCluster.id")
		e.GQL(c.tok, `mutation($c: ID!, $n: String!) { createClusterNode(input: {clusterID: $c, name: $n, address: "1.2.3.4", operatingSystem: "Linux", kernelVersion: "2.6", ready: true}) { id } }`,
			map[string]any{"c": cid, "n": c.node}).OK()
	}
	w.business = e.GQL(w.alice, `mutation { createBusiness(input: {name: "name", introduce: "intrduce", objective: "objective", scale: "scale"}) { id } }`, nil).OK().Str("createBusiness.id")
	w.bobBiz = e.GQL(w.bob, `mutation { createBusiness(input: {name: "bobs"}) { id } }`, nil).OK().Str("createBusiness.id")
	w.spare = e.Login("admin", testenv.AdminPassword)
	w.spare2 = e.Login("admin", testenv.AdminPassword)
	w.pendingID = e.GQL("", `mutation { register(input: {username: "u9", password: "xxX@1234"}) { id } }`, nil).OK().Str("register.id")
	w.setupDeploy(t)
	return w
}

// call is one request.
type call struct {
	method, path string
	body         any
	token        string
}

func (w *world) do(c call) *testenv.Response {
	var h []string
	if c.token != "" {
		h = testenv.Auth(c.token)
	}
	if f, ok := c.body.(form); ok {
		return w.e.Do(c.method, c.path, f.data, append(h, "Content-Type", f.contentType)...)
	}
	return w.e.Do(c.method, c.path, c.body, h...)
}

// examples are the document's own example requests, one per endpoint (by
// declaration name), adapted only where the document uses placeholder IDs.
func (w *world) examples() map[string]call {
	ex := w.deployExamples()
	for k, v := range w.userExamples() {
		ex[k] = v
	}
	return ex
}

func (w *world) userExamples() map[string]call {
	return map[string]call{
		"login":              {"POST", "/v1/authorization", map[string]any{"user": "alice", "password": "password1"}, ""},
		"refreshToken":       {"PUT", "/v1/authorization", nil, w.alice},
		"authorizationInfo":  {"GET", "/v1/authorization", nil, w.alice},
		"createUser":         {"POST", "/v1/user", map[string]any{"user": "u1", "password": "xxX@1234", "phone": "12345678910", "realName": "hello", "isAdmin": true}, ""},
		"updatePassword":     {"PUT", "/v1/user", map[string]any{"oldPassword": "password1", "password": "password2"}, w.alice},
		"resetPassword":      {"PUT", "/v1/admin/user/" + w.bobID + "/password", map[string]any{"password": "xxxxxx"}, w.admin},
		"listUsers":          {"GET", "/v1/admin/user", nil, w.admin},
		"auditUser":          {"PUT", "/v1/admin/user/" + w.pendingID, map[string]any{"status": 1}, w.admin},
		"createSubUser":      {"POST", "/v1/admin/user", map[string]any{"user": "sub1", "password": "xxX@1234", "phone": "12345678910", "realName": "sub"}, w.admin},
		"deleteUser":         {"DELETE", "/v1/admin/user/" + w.pendingID, nil, w.admin},
		"createBusiness":     {"POST", "/v1/business", map[string]any{"name": "name", "introduce": "intrduce", "objective": "objective", "scale": "scale"}, w.alice},
		"listBusiness":       {"GET", "/v1/business", nil, w.alice},
		"getBusiness":        {"GET", "/v1/business/id/" + w.business, nil, w.alice},
		"auditBusiness":      {"PUT", "/v1/business/id/" + w.business, map[string]any{"comment": "pass", "status": 1}, w.admin},
		"listClusters":       {"GET", "/v1/cluster?clusterLabel=all&page=1&pageSize=10", nil, w.alice},
		"addClusterLabel":    {"POST", "/v1/cluster/label", map[string]any{"clusterLabel": "label1", "clusterName": []string{"GuangZhou", "BeiJing"}}, w.alice},
		"deleteClusterLabel": {"DELETE", "/v1/cluster/label", map[string]any{"clusterLabel": "label1", "clusterName": []string{"GuangZhou", "BeiJing"}}, w.alice},
		"listClusterLabels":  {"GET", "/v1/cluster/label", nil, w.alice},
		"getClusterLabels":   {"GET", "/v1/cluster/label/GuangZhou?page=1&pageSize=10", nil, w.alice},
		"listNodes":          {"GET", "/v1/node", nil, w.alice},
		"addNodeLabel":       {"POST", "/v1/node/label", map[string]any{"nodeLabel": "label1", "clusterName": "GuangZhou", "nodeName": []string{"GZ1"}}, w.alice},
		"deleteNodeLabel":    {"DELETE", "/v1/node/label", map[string]any{"nodeLabel": "label1", "clusterName": "GuangZhou", "nodeName": []string{"GZ1"}, "deleteDeploy": true}, w.alice},
		"listNodeLabels":     {"GET", "/v1/node/label?clusterName=GuangZhou", nil, w.alice},
		"logout":             {"DELETE", "/v1/authorization", nil, w.spare},
		"logoutAlias":        {"DELETE", "/v1/authorizations", nil, w.spare2},
	}
}

// order runs logout last: it revokes alice's token.
var order = []string{"login", "createUser", "authorizationInfo", "listUsers", "auditUser", "createSubUser", "resetPassword",
	"deleteUser", "createBusiness", "listBusiness", "getBusiness", "auditBusiness", "listClusters", "addClusterLabel",
	"getClusterLabels", "listClusterLabels", "deleteClusterLabel", "addNodeLabel", "listNodeLabels", "deleteNodeLabel",
	"listNodes", "updatePassword", "refreshToken", "logout", "logoutAlias"}

func init() { order = append(order, deployOrder...) }

// TestDocumentExamples walks every declared endpoint once with the
// document's example request and checks the envelope.
func TestDocumentExamples(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		w := setup(t, db)
		doc := newContract(t)
		ex := w.examples()
		routes := len(otestack.Endpoints) + len(aliasExamples)
		if len(ex) != routes || len(order) != routes {
			t.Fatalf("%d examples, %d in order, %d endpoints and aliases: every endpoint and alias needs one", len(ex), len(order), routes)
		}
		for _, name := range order {
			c := ex[name]
			if c.method == "" {
				t.Fatalf("no example for %s", name)
			}
			r := w.do(c)
			doc.check(c, r)
			want := 200
			if ep := endpoint(name); ep != nil && ep.Status != 0 {
				want = ep.Status
			}
			if r.Status != want || r.Body["code"] != float64(want) || r.Body["message"] != "success" {
				t.Errorf("%s %s %s: %d %s", name, c.method, c.path, r.Status, r.Raw)
				continue
			}
			// The envelope, byte for byte: code, message, then the
			// declared keys in order, compact, one line.
			wantKeys := []string{"code", "message"}
			if ep := endpoint(name); ep.Response != nil {
				wantKeys = append(wantKeys, ep.Response.Order...)
			}
			prefix := fmt.Sprintf(`{"code":%d,"message":"success"`, want)
			if keys := topKeys(t, r.Raw); !reflect.DeepEqual(keys, wantKeys) || !bytes.HasPrefix(r.Raw, []byte(prefix)) || !bytes.HasSuffix(r.Raw, []byte("}\n")) ||
				r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("%s: keys %v, want %v: %s", name, keys, wantKeys, r.Raw)
			}
		}
		doc.exercisedAll()
	})
}

// TestAnswers checks the shapes and values the document shows.
func TestAnswers(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		w := setup(t, db)
		r := w.do(call{"GET", "/v1/cluster?clusterLabel=all&page=1&pageSize=10", nil, w.alice})
		want := []any{
			map[string]any{"clusterName": "GuangZhou", "nodeCount": float64(1), "isReady": true},
			map[string]any{"clusterName": "BeiJing", "nodeCount": float64(1), "isReady": true},
		}
		if !reflect.DeepEqual(r.Body["data"], want) || r.Body["total"] != float64(2) {
			t.Errorf("cluster list: %s", r.Raw)
		}
		// Paging: page 2 of size 1 is BeiJing; total stays 2.
		r = w.do(call{"GET", "/v1/cluster?page=2&pageSize=1", nil, w.alice})
		if testenv.Path(r.Body, "data.0.clusterName") != "BeiJing" || len(r.Body["data"].([]any)) != 1 || r.Body["total"] != float64(2) {
			t.Errorf("page 2: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/cluster?page=9&pageSize=10", nil, w.alice})
		if len(r.Body["data"].([]any)) != 0 || r.Body["total"] != float64(2) {
			t.Errorf("page past the end: %s", r.Raw)
		}
		// Labels filter clusters.
		w.do(call{"POST", "/v1/cluster/label", map[string]any{"clusterLabel": "south", "clusterName": []string{"GuangZhou"}}, w.alice})
		r = w.do(call{"GET", "/v1/cluster?clusterLabel=south", nil, w.alice})
		if r.Body["total"] != float64(1) || testenv.Path(r.Body, "data.0.clusterName") != "GuangZhou" {
			t.Errorf("label filter: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/cluster/label", nil, w.alice})
		if !reflect.DeepEqual(r.Body["data"], []any{"south"}) {
			t.Errorf("label list: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/cluster/label/GuangZhou", nil, w.alice})
		if testenv.Path(r.Body, "data.0.clusterLabel") != "south" || r.Body["total"] != float64(1) {
			t.Errorf("labels of GuangZhou: %s", r.Raw)
		}
		if ct, _ := testenv.Path(r.Body, "data.0.createTime").(float64); ct < float64(time.Now().Add(-time.Hour).Unix()) {
			t.Errorf("createTime is not Unix seconds: %v", ct)
		}
		// Nodes: the document's fields and meta.
		w.e.GQL(w.alice, `mutation { updateClusterNode(id: 0, input: {}) { id } }`, nil) // harmless: NOT_FOUND
		r = w.do(call{"GET", "/v1/node?clusterName=GuangZhou", nil, w.alice})
		wantNode := map[string]any{"nodeName": "GZ1", "operatingSystem": "Linux", "clusterName": "GuangZhou", "kernelVersion": "2.6", "isReady": true, "ip": "1.2.3.4"}
		if !reflect.DeepEqual(testenv.Path(r.Body, "data.0"), wantNode) || testenv.Path(r.Body, "meta.readyNodeCount") != float64(1) || r.Body["total"] != float64(1) {
			t.Errorf("node list: %s", r.Raw)
		}
		w.do(call{"POST", "/v1/node/label", map[string]any{"nodeLabel": "gpu", "clusterName": "GuangZhou", "nodeName": []string{"GZ1"}}, w.alice})
		r = w.do(call{"GET", "/v1/node?nodeLabel=gpu", nil, w.alice})
		if r.Body["total"] != float64(1) {
			t.Errorf("node label filter: %s", r.Raw)
		}
		r = w.do(call{"GET", "/v1/node/label?clusterName=GuangZhou", nil, w.alice})
		if !reflect.DeepEqual(r.Body["data"], []any{"gpu"}) {
			t.Errorf("node label list: %s", r.Raw)
		}
		// Business audit: status codes and comment.
		w.do(call{"PUT", "/v1/business/id/" + w.business, map[string]any{"comment": "pass", "status": 1}, w.admin})
		r = w.do(call{"GET", "/v1/business/id/" + w.business, nil, w.alice})
		d := r.Body["data"].(map[string]any)
		if d["status"] != float64(1) || d["comment"] != "pass" || d["introduce"] != "intrduce" || d["userId"] != mustNum(w.aliceID) {
			t.Errorf("business: %s", r.Raw)
		}
		if r := w.do(call{"PUT", "/v1/business/id/" + w.business, map[string]any{"status": 2}, w.admin}); r.Status != 409 {
			t.Errorf("second audit: %d %s", r.Status, r.Raw)
		}
		// Users: the document's fields.
		r = w.do(call{"GET", "/v1/admin/user?pageSize=0", nil, w.admin})
		if r.Body["total"] != float64(5) {
			t.Errorf("user list total: %s", r.Raw)
		}
		u := testenv.Path(r.Body, "data.1").(map[string]any)
		for _, k := range []string{"id", "user", "status", "realName", "phone", "createTime", "updateTime"} {
			if _, ok := u[k]; !ok {
				t.Errorf("user lacks %s: %v", k, u)
			}
		}
		r = w.do(call{"GET", "/v1/authorization", nil, w.alice})
		if testenv.Path(r.Body, "data.role") != float64(1) || testenv.Path(r.Body, "data.displayName") != "alice" {
			t.Errorf("authorization info: %s", r.Raw)
		}
	})
}

// TestAgreesWithGraphQL: each REST answer equals the GraphQL answer to the
// same question.
func TestAgreesWithGraphQL(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		w := setup(t, db)
		e := w.e
		w.do(call{"POST", "/v1/cluster/label", map[string]any{"clusterLabel": "l1", "clusterName": []string{"GuangZhou", "BeiJing"}}, w.alice})
		w.do(call{"POST", "/v1/node/label", map[string]any{"nodeLabel": "n1", "clusterName": "GuangZhou", "nodeName": []string{"GZ1"}}, w.alice})
		for _, tok := range []string{w.alice, w.admin} {
			// Clusters.
			g := e.GQL(tok, `{ clusters { totalCount edges { node { name ready nodes { totalCount } } } } }`, nil).OK()
			r := w.do(call{"GET", "/v1/cluster?pageSize=0", nil, tok})
			var want []any
			for _, ed := range g.Get("clusters.edges").([]any) {
				want = append(want, map[string]any{"clusterName": testenv.Path(ed, "node.name"), "nodeCount": testenv.Path(ed, "node.nodes.totalCount"), "isReady": testenv.Path(ed, "node.ready")})
			}
			if !reflect.DeepEqual(r.Body["data"], want) || r.Body["total"] != g.Get("clusters.totalCount") {
				t.Errorf("clusters: REST %s, GraphQL %v", r.Raw, g.Data)
			}
			// Nodes.
			g = e.GQL(tok, `{ clusterNodes { totalCount edges { node { name address ready cluster { name } } } } r: clusterNodes(where: {ready: true}) { totalCount } }`, nil).OK()
			r = w.do(call{"GET", "/v1/node?pageSize=0", nil, tok})
			want = nil
			for _, ed := range g.Get("clusterNodes.edges").([]any) {
				want = append(want, testenv.Path(ed, "node.name"))
			}
			var got []any
			for _, n := range r.Body["data"].([]any) {
				got = append(got, n.(map[string]any)["nodeName"])
			}
			if !reflect.DeepEqual(got, want) || r.Body["total"] != g.Get("clusterNodes.totalCount") || testenv.Path(r.Body, "meta.readyNodeCount") != g.Get("r.totalCount") {
				t.Errorf("nodes: REST %s, GraphQL %v", r.Raw, g.Data)
			}
			// Labels.
			g = e.GQL(tok, `{ clusterLabelNames nodeLabelNames(clusterName: "GuangZhou") }`, nil)
			if tok == w.alice {
				g.OK()
				if r := w.do(call{"GET", "/v1/cluster/label", nil, tok}); !reflect.DeepEqual(r.Body["data"], g.Get("clusterLabelNames")) {
					t.Errorf("cluster labels: REST %s, GraphQL %v", r.Raw, g.Data)
				}
				if r := w.do(call{"GET", "/v1/node/label?clusterName=GuangZhou", nil, tok}); !reflect.DeepEqual(r.Body["data"], g.Get("nodeLabelNames")) {
					t.Errorf("node labels: REST %s, GraphQL %v", r.Raw, g.Data)
				}
			}
			// Businesses.
			g = e.GQL(tok, `{ businesses { totalCount edges { node { id name status comment userID } } } }`, nil).OK()
			r = w.do(call{"GET", "/v1/business", nil, tok})
			want = nil
			for _, ed := range g.Get("businesses.edges").([]any) {
				want = append(want, mustNum(testenv.Path(ed, "node.id").(string)))
			}
			got = nil
			for _, b := range r.Body["data"].([]any) {
				got = append(got, b.(map[string]any)["id"])
			}
			if !reflect.DeepEqual(got, want) || r.Body["total"] != g.Get("businesses.totalCount") {
				t.Errorf("businesses: REST %s, GraphQL %v", r.Raw, g.Data)
			}
			// Users.
			g = e.GQL(tok, `{ users { totalCount edges { node { id username } } } }`, nil).OK()
			r = w.do(call{"GET", "/v1/admin/user", nil, tok})
			if r.Body["total"] != g.Get("users.totalCount") || len(r.Body["data"].([]any)) != len(g.Get("users.edges").([]any)) {
				t.Errorf("users: REST %s, GraphQL %v", r.Raw, g.Data)
			}
			// Me.
			g = e.GQL(tok, `{ me { displayName hasRepoAccount role tenant { privateProject enableIngress enableAlert enableAdminAutoDeploy } } }`, nil).OK()
			r = w.do(call{"GET", "/v1/authorization", nil, tok})
			if testenv.Path(r.Body, "data.displayName") != g.Get("me.displayName") || testenv.Path(r.Body, "data.privateProject") != g.Get("me.tenant.privateProject") {
				t.Errorf("me: REST %s, GraphQL %v", r.Raw, g.Data)
			}
		}
	})
}

// aliasExamples are examples of an endpoint on one of its aliases: the
// example's name and the endpoint's.
var aliasExamples = map[string]string{"logoutAlias": "logout", "createDeployInstall": "createDeploy"}

// endpoint is the endpoint an example calls.
func endpoint(name string) *rest.Endpoint {
	if ep, ok := aliasExamples[name]; ok {
		name = ep
	}
	for i := range otestack.Endpoints {
		if otestack.Endpoints[i].Name == name {
			return &otestack.Endpoints[i]
		}
	}
	return nil
}

func mustNum(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// TestBadInput sends every endpoint the spine's list of bad inputs; each
// gets its documented code, names the field, and changes nothing.
func TestBadInput(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		w := setup(t, db)
		ex := w.examples()
		expired := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "meridian", "sub": w.aliceID, "jti": "x", "exp": time.Now().Add(-time.Hour).Unix()})
		expiredTok, _ := expired.SignedString([]byte(secret))
		badSig := w.alice[:strings.LastIndex(w.alice, ".")+1] + "AAAA" + w.alice[strings.LastIndex(w.alice, ".")+5:]
		revoked := w.e.Login("alice", "password1")
		w.e.Do("DELETE", "/v1/authorization", nil, testenv.Auth(revoked)...)

		type bad struct {
			name   string
			c      call
			status int
			field  string // the message must name it
		}
		var cases []bad
		for _, name := range order {
			ep := endpoint(name)
			base := ex[name]
			if !ep.Public {
				for _, tk := range []struct{ n, tok string }{{"no token", ""}, {"bad signature", badSig}, {"expired token", expiredTok}, {"revoked token", revoked}} {
					c := base
					c.token = tk.tok
					cases = append(cases, bad{name + ": " + tk.n, c, 401, ""})
				}
			}
			body, _ := base.body.(map[string]any)
			hasBody := false
			for _, p := range ep.Params {
				if p.In == "body" {
					hasBody = true
				}
			}
			if hasBody {
				c := base
				c.body = `{"broken": `
				cases = append(cases, bad{name + ": malformed JSON", c, 422, "body"})
				c.body = `[1, 2]`
				cases = append(cases, bad{name + ": not an object", c, 422, "body"})
			}
			for _, p := range ep.Params {
				if p.In != "body" {
					continue
				}
				with := func(v any) call {
					c := base
					nb := map[string]any{}
					for k, x := range body {
						nb[k] = x
					}
					if v == nil {
						delete(nb, p.Name)
					} else {
						nb[p.Name] = v
					}
					c.body = nb
					return c
				}
				if p.Required {
					cases = append(cases, bad{name + ": missing " + p.Name, with(nil), 422, p.Name})
				}
				var wrong any = "not-a-number"
				switch p.Type {
				case "string":
					wrong = 12345
				case "array":
					wrong = "not-a-list"
				case "boolean":
					wrong = "yes"
				}
				cases = append(cases, bad{name + ": wrong type " + p.Name, with(wrong), 422, p.Name})
				if p.MaxLength != nil {
					long := strings.Repeat("x", *p.MaxLength+1)
					if p.Type == "array" {
						cases = append(cases, bad{name + ": too long " + p.Name, with([]any{long}), 422, p.Name})
					} else {
						cases = append(cases, bad{name + ": too long " + p.Name, with(long), 422, p.Name})
					}
				}
				if len(p.Map) > 0 {
					cases = append(cases, bad{name + ": unknown enum " + p.Name, with(4), 422, p.Name})
					cases = append(cases, bad{name + ": negative enum " + p.Name, with(-1), 422, p.Name})
				}
				if p.Type == "array" && p.MinItems != nil {
					cases = append(cases, bad{name + ": empty " + p.Name, with([]any{}), 422, p.Name})
				}
			}
			for _, p := range ep.Params {
				if p.In == "path" && p.Type == "integer" {
					c := base
					c.path = replaceID(base.path, "abc")
					cases = append(cases, bad{name + ": non-numeric " + p.Name, c, 422, p.Name})
					c.path = replaceID(base.path, "99999999999")
					cases = append(cases, bad{name + ": unknown " + p.Name, c, 404, ""})
				}
			}
		}
		// Another tenant's rows, and roles.
		cases = append(cases,
			bad{"alice reads bob's business", call{"GET", "/v1/business/id/" + w.bobBiz, nil, w.alice}, 404, ""},
			bad{"alice audits bob's business", call{"PUT", "/v1/business/id/" + w.bobBiz, map[string]any{"status": 1}, w.alice}, 404, ""},
			bad{"alice audits her own business", call{"PUT", "/v1/business/id/" + w.business, map[string]any{"status": 1}, w.alice}, 403, ""},
			bad{"a cluster's id as a business", call{"GET", "/v1/business/id/" + w.aliceID, nil, w.admin}, 404, ""},
			bad{"alice deletes bob", call{"DELETE", "/v1/admin/user/" + w.bobID, nil, w.alice}, 404, ""},
			bad{"alice resets bob's password", call{"PUT", "/v1/admin/user/" + w.bobID + "/password", map[string]any{"password": "hijack123"}, w.alice}, 404, ""},
			bad{"alice approves a user", call{"PUT", "/v1/admin/user/" + w.pendingID, map[string]any{"status": 1}, w.alice}, 404, ""},
			bad{"alice approves herself", call{"PUT", "/v1/admin/user/" + w.aliceID, map[string]any{"status": 1}, w.alice}, 403, ""},
			bad{"alice creates a user", call{"POST", "/v1/admin/user", map[string]any{"user": "mallory", "password": "xxX@1234"}, w.alice}, 403, ""},
			bad{"alice labels bob's cluster", call{"POST", "/v1/cluster/label", map[string]any{"clusterLabel": "x", "clusterName": []string{"Shanghai"}}, w.alice}, 404, "clusterName"},
			bad{"alice reads bob's cluster labels", call{"GET", "/v1/cluster/label/Shanghai", nil, w.alice}, 404, ""},
			bad{"alice labels bob's node", call{"POST", "/v1/node/label", map[string]any{"nodeLabel": "x", "clusterName": "Shanghai", "nodeName": []string{"SH1"}}, w.alice}, 404, "clusterName"},
			bad{"alice lists bob's node labels", call{"GET", "/v1/node/label?clusterName=Shanghai", nil, w.alice}, 404, "clusterName"},
			bad{"a node not in the cluster", call{"POST", "/v1/node/label", map[string]any{"nodeLabel": "x", "clusterName": "GuangZhou", "nodeName": []string{"BJ1"}}, w.alice}, 404, "nodeName"},
			bad{"a label that is not a name", call{"POST", "/v1/cluster/label", map[string]any{"clusterLabel": "bad label!", "clusterName": []string{"GuangZhou"}}, w.alice}, 422, "clusterLabel"},
			bad{"wrong password", call{"POST", "/v1/authorization", map[string]any{"user": "alice", "password": "nope"}, ""}, 401, ""},
			bad{"unknown user", call{"POST", "/v1/authorization", map[string]any{"user": "nobody", "password": "nope"}, ""}, 401, ""},
			bad{"pending user", call{"POST", "/v1/authorization", map[string]any{"user": "u9", "password": "xxX@1234"}, ""}, 403, ""},
			bad{"user name taken", call{"POST", "/v1/user", map[string]any{"user": "alice", "password": "xxX@1234"}, ""}, 409, "user"},
			bad{"user name not a name", call{"POST", "/v1/user", map[string]any{"user": "a b/c", "password": "xxX@1234"}, ""}, 422, "user"},
			bad{"short password", call{"POST", "/v1/user", map[string]any{"user": "newbie", "password": "xxx"}, ""}, 422, "password"},
			bad{"only the super-admin grants admin", call{"POST", "/v1/admin/user", map[string]any{"user": "x2", "password": "xxX@1234", "role": 2}, w.alice}, 403, ""},
			bad{"audit to pending", call{"PUT", "/v1/business/id/" + w.business, map[string]any{"status": 0}, w.admin}, 422, "status"},
			bad{"page zero", call{"GET", "/v1/cluster?page=0", nil, w.alice}, 422, "page"},
			bad{"page not a number", call{"GET", "/v1/cluster?page=x", nil, w.alice}, 422, "page"},
			bad{"pageSize too big", call{"GET", "/v1/cluster?pageSize=100000", nil, w.alice}, 422, "pageSize"},
			bad{"negative pageSize", call{"GET", "/v1/node?pageSize=-1", nil, w.alice}, 422, "pageSize"},
			bad{"missing clusterName query", call{"GET", "/v1/node/label", nil, w.alice}, 422, "clusterName"},
			bad{"delete yourself", call{"DELETE", "/v1/admin/user/" + adminID(w), nil, w.admin}, 422, "userId"},
			bad{"unknown route", call{"GET", "/v1/nothing", nil, w.alice}, 404, ""},
			// Repository, applications and deployments.
			bad{"a chart upload that is not a chart", call{"POST", "/v1/app/chart", multipartForm(map[string]string{"appName": "test1", "version": "1.2"}, "chart", []byte("not a chart")), w.dw.carol}, 422, "chart"},
			bad{"a chart upload without the chart", call{"POST", "/v1/app/chart", multipartForm(map[string]string{"appName": "test1", "version": "1.2"}, "", nil), w.dw.carol}, 422, "chart"},
			bad{"a chart upload in JSON", call{"POST", "/v1/app/chart", map[string]any{"appName": "test1", "version": "1.2"}, w.dw.carol}, 415, "Content-Type"},
			bad{"a chart version that is not x.y", call{"POST", "/v1/app/chart", multipartForm(map[string]string{"appName": "test1", "version": "1.2.3"}, "chart", w.dw.chart), w.dw.carol}, 422, "version"},
			bad{"a tag that does not exist", call{"DELETE", "/v1/repository/image/tag", map[string]any{"imageName": "test/test-demo1", "tag": []string{"nope"}}, w.dw.carol}, 404, "tag"},
			bad{"tags of an image that does not exist", call{"GET", "/v1/repository/image/tag?imageName=test/nope", nil, w.dw.carol}, 404, ""},
			bad{"an image that does not exist", call{"DELETE", "/v1/repository/image", map[string]any{"imageName": []string{"test/nope"}}, w.dw.carol}, 404, "imageName"},
			bad{"alice deletes carol's private image", call{"DELETE", "/v1/repository/image", map[string]any{"imageName": []string{"test/test-demo1"}}, w.alice}, 404, "imageName"},
			bad{"alice lists carol's private project", call{"GET", "/v1/repository/image/tag?imageName=test/test-demo1", nil, w.alice}, 404, ""},
			bad{"alice deletes carol's public project", call{"DELETE", "/v1/repository/project", map[string]any{"projectId": []any{num(w.dw.emptyProject)}}, w.alice}, 404, "projectId"},
			bad{"a project name taken", call{"POST", "/v1/repository/project", map[string]any{"projectName": "test", "public": true}, w.alice}, 409, "projectName"},
			bad{"a project name that is not one", call{"POST", "/v1/repository/project", map[string]any{"projectName": "Bad Name", "public": true}, w.alice}, 422, "projectName"},
			bad{"a project in plain text", call{"POST", "/v1/repository/project", form{"text/plain", []byte(`{"projectName": "calico", "public": true}`)}, w.alice}, 415, "Content-Type"},
			bad{"a project with images", call{"DELETE", "/v1/repository/project", map[string]any{"projectId": []any{num(projectID(w, "test"))}}, w.dw.carol}, 409, "projectId"},
			bad{"a second registry account", call{"POST", "/v1/repository/user", map[string]any{"user": "carol2", "password": "xxxxxx"}, w.dw.carol}, 409, ""},
			bad{"a registry user name taken", call{"POST", "/v1/repository/user", map[string]any{"user": "carol-reg", "password": "xxxxxx"}, w.alice}, 409, "user"},
			bad{"a registry password without an account", call{"PUT", "/v1/repository/user", map[string]any{"password": "xxxxxx"}, w.alice}, 404, ""},
			bad{"an external registry in use", call{"DELETE", "/v1/repository/third", map[string]any{"repositoryId": []string{"yq01"}}, w.dw.carol}, 409, "repositoryId"},
			bad{"an external registry that does not exist", call{"GET", "/v1/repository/third/nope", nil, w.dw.carol}, 404, ""},
			bad{"an external registry id taken", call{"POST", "/v1/repository/third", map[string]any{"repositoryId": "yq01", "address": "x.example.com"}, w.dw.carol}, 409, "repositoryId"},
			bad{"an external registry address that is not one", call{"POST", "/v1/repository/third", map[string]any{"repositoryId": "yq02", "address": "not an address/x y"}, w.dw.carol}, 422, "address"},
			bad{"alice reads carol's external registry", call{"GET", "/v1/repository/third/yq01", nil, w.alice}, 404, ""},
			bad{"an app version that is not x.y", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "version", "1.2.3"), w.dw.carol}, 422, "version"},
			bad{"an app of another deploy type", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "deployType", "statefulset"), w.dw.carol}, 422, "deployType"},
			bad{"an app with minReplicas over maxReplicas", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "minReplicas", 30), w.dw.carol}, 422, "minReplicas"},
			bad{"an app with minCPU over maxCPU", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "minCPU", 300), w.dw.carol}, 422, "CPU"},
			bad{"an app with minMemory over maxMemory", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "minMemory", 300), w.dw.carol}, 422, "Memory"},
			bad{"an app port without a port", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "port", []any{map[string]any{"hostPort": 9090}}), w.dw.carol}, 422, "port"},
			bad{"an app port out of range", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "port", []any{map[string]any{"port": 70000}}), w.dw.carol}, 422, "port"},
			bad{"an app volume without a host path", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "volume", []any{map[string]any{"path": "/x"}}), w.dw.carol}, 422, "volume"},
			bad{"an app name that is not a DNS label", call{"POST", "/v1/app", withKey(appBody("nginx1", ""), "appName", "Nginx_1"), w.dw.carol}, 422, "appName"},
			bad{"an app pulling with an unknown registry", call{"POST", "/v1/app", appBody("nginx1", "nope"), w.dw.carol}, 404, "repositoryId"},
			bad{"an app version in use", call{"DELETE", "/v1/app", map[string]any{"appId": []any{num(w.dw.v121)}}, w.dw.carol}, 409, "appId"},
			bad{"alice reads carol's app", call{"GET", "/v1/app/id/" + w.dw.v121, nil, w.alice}, 404, ""},
			bad{"a deployment of an unknown app", call{"POST", "/v1/deploy", map[string]any{"deployName": "x1", "appName": "nope", "version": "1.2.1", "cluster": "cluster1"}, w.dw.carol}, 404, "appName"},
			bad{"a deployment of an unknown version", call{"POST", "/v1/deploy", map[string]any{"deployName": "x1", "appName": "nginx1", "version": "9.9.9", "cluster": "cluster1"}, w.dw.carol}, 404, "version"},
			bad{"a deployment on an unknown cluster", call{"POST", "/v1/deploy", map[string]any{"deployName": "x1", "appName": "nginx1", "version": "1.2.1", "cluster": "nope"}, w.dw.carol}, 404, "cluster"},
			bad{"a deployment on alice's cluster", call{"POST", "/v1/deploy", map[string]any{"deployName": "x1", "appName": "nginx1", "version": "1.2.1", "cluster": "GuangZhou"}, w.dw.carol}, 404, "cluster"},
			bad{"a deployment on an unknown node label", call{"POST", "/v1/deploy", map[string]any{"deployName": "x1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1", "nodeLabel": "nope"}, w.dw.carol}, 422, "nodeLabel"},
			bad{"a deployment name taken", call{"POST", "/v1/deploy", map[string]any{"deployName": "d1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1"}, w.dw.carol}, 409, "deployName"},
			bad{"a deployment name that is not a DNS label", call{"POST", "/v1/deploy", map[string]any{"deployName": "D_1", "appName": "nginx1", "version": "1.2.1", "cluster": "cluster1"}, w.dw.carol}, 422, "deployName"},
			bad{"an audit of a deployment already audited", call{"PUT", "/v1/admin/deploy", map[string]any{"id": num(w.dw.d1), "status": 0}, w.admin}, 409, "id"},
			bad{"an audit by a normal user", call{"PUT", "/v1/admin/deploy", map[string]any{"id": num(w.dw.d3), "status": 0}, w.dw.carol}, 403, ""},
			bad{"an audit of an unknown deployment", call{"PUT", "/v1/admin/deploy", map[string]any{"id": 99999999999, "status": 0}, w.admin}, 404, ""},
			bad{"an upgrade to a version that does not exist", call{"POST", "/v1/deploy/id/" + w.dw.d1, map[string]any{"version": "1.2.9"}, w.dw.carol}, 404, "version"},
			bad{"an upgrade to the version running", call{"POST", "/v1/deploy/id/" + w.dw.d1, map[string]any{"version": "1.2.1"}, w.dw.carol}, 422, "version"},
			bad{"an upgrade of a deployment waiting for audit", call{"POST", "/v1/deploy/id/" + w.dw.d3, map[string]any{"version": "1.2.2"}, w.dw.carol}, 409, ""},
			bad{"a rollback to a version never deployed", call{"PUT", "/v1/deploy/id/" + w.dw.d1, map[string]any{"version": "1.2.2"}, w.dw.carol}, 422, "version"},
			bad{"a rollback to a version that does not exist", call{"PUT", "/v1/deploy/id/" + w.dw.d1, map[string]any{"version": "7.7.7"}, w.dw.carol}, 404, "version"},
			bad{"alice upgrades carol's deployment", call{"POST", "/v1/deploy/id/" + w.dw.d1, map[string]any{"version": "1.2.2"}, w.alice}, 404, ""},
			bad{"alice deletes carol's deployment by name", call{"DELETE", "/v1/deploy/d1", nil, w.alice}, 404, "deployName"},
			bad{"alice reads carol's deployment", call{"GET", "/v1/deploy/id/" + w.dw.d1, nil, w.alice}, 404, ""},
			bad{"an unknown deployment name", call{"DELETE", "/v1/deploy/nope", nil, w.dw.carol}, 404, "deployName"},
			bad{"images without a project", call{"GET", "/v1/repository/image", nil, w.dw.carol}, 422, "projectName"},
			bad{"images in an unknown order", call{"GET", "/v1/repository/image?projectName=test&order=up", nil, w.dw.carol}, 422, "order"},
			bad{"images by an unknown field", call{"GET", "/v1/repository/image?projectName=test&orderBy=size", nil, w.dw.carol}, 422, "orderBy"},
			bad{"wrong method", call{"PATCH", "/v1/cluster", nil, w.alice}, 405, "GET"},
		)
		before := w.e.Snapshot()
		for _, bc := range cases {
			r := w.do(bc.c)
			msg, _ := r.Body["message"].(string)
			if bc.status >= http.StatusInternalServerError {
				t.Fatalf("%s: a client mistake may not expect %d", bc.name, bc.status)
			}
			if r.Status != bc.status || r.Body["code"] != float64(bc.status) {
				t.Errorf("%s: got %d %s, want %d", bc.name, r.Status, r.Raw, bc.status)
				continue
			}
			if keys := topKeys(t, r.Raw); !reflect.DeepEqual(keys, []string{"code", "message"}) || !bytes.HasPrefix(r.Raw, []byte(fmt.Sprintf(`{"code":%d,"message":"`, bc.status))) {
				t.Errorf("%s: not the error envelope: %s", bc.name, r.Raw)
			}
			if bc.field != "" && !strings.Contains(msg, bc.field) {
				t.Errorf("%s: message %q does not name %q", bc.name, msg, bc.field)
			}
		}
		if after := w.e.Snapshot(); after != before {
			t.Errorf("bad requests changed the database:\nbefore %s\nafter  %s", before, after)
		}
		if tags := registryTags(t, w.e, "test/test-demo1", "carol-reg", "regpass1"); !reflect.DeepEqual(tags, []string{"latest", "v1"}) {
			t.Errorf("bad requests changed the registry: tags %v", tags)
		}
		t.Logf("%d bad requests", len(cases))
	})
}

// withKey is a copy of body with key set to v.
func withKey(body map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range body {
		out[k] = x
	}
	out[key] = v
	return out
}

// projectID is the ID of a registry project.
func projectID(w *world, name string) string {
	return w.e.GQL(w.admin, `query($n: String!) { registryProjects(where: {name: $n}) { edges { node { id } } } }`, map[string]any{"n": name}).OK().Str("registryProjects.edges.0.node.id")
}

// replaceID replaces the numeric segment of a path.
func replaceID(path, with string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			segs[i] = with
			return strings.Join(segs, "/")
		}
	}
	panic("no ID in " + path)
}

func adminID(w *world) string {
	return w.e.GQL(w.admin, `{ me { user { id } } }`, nil).OK().Str("me.user.id")
}

// topKeys lists the keys of a JSON object answer in the order sent.
func topKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Errorf("not a JSON object: %s", raw)
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Errorf("%v: %s", err, raw)
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Errorf("%v: %s", err, raw)
			return keys
		}
	}
	return keys
}

// TestWire: answers whose every byte is known, as the Go envelope wrote
// them before it became a declaration; a wrong method answers 405 with Allow.
func TestWire(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	admin := e.AdminToken()
	cases := []struct {
		method, path, body, token string
		status                    int
		want                      string
	}{
		{"GET", "/v1/nothing", "", admin, 404, `{"code":404,"message":"no endpoint at /v1/nothing"}`},
		{"GET", "/v1/cluster", "", admin, 200, `{"code":200,"message":"success","data":[],"total":0}`},
		{"GET", "/v1/cluster?page=0", "", admin, 422, `{"code":422,"message":"page: must be at least 1"}`},
		{"GET", "/v1/cluster", "", "", 401, `{"code":401,"message":"authentication required"}`},
		{"POST", "/v1/authorization", `{"user": "admin", "password": 7}`, "", 422, `{"code":422,"message":"password: must be a string"}`},
		{"POST", "/v1/user", `{"user": "admin", "password": "xxX@1234"}`, "", 409, `{"code":409,"message":"user: user name already taken"}`},
		{"DELETE", "/v1/authorizations", "", e.Login("admin", testenv.AdminPassword), 200, `{"code":200,"message":"success"}`},
		{"PATCH", "/v1/cluster", "", admin, 405, `{"code":405,"message":"PATCH /v1/cluster: this path takes GET"}`},
		{"GET", "/v1/admin/deploy/x", "", admin, 404, `{"code":404,"message":"no endpoint at /v1/admin/deploy/x"}`},
		{"DELETE", "/v1/admin/deploy", "", admin, 405, `{"code":405,"message":"DELETE /v1/admin/deploy: this path takes GET, POST, PUT"}`},
	}
	for _, c := range cases {
		var h []string
		if c.token != "" {
			h = testenv.Auth(c.token)
		}
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.Do(c.method, c.path, body, h...)
		if r.Status != c.status || string(r.Raw) != c.want+"\n" {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.Status, r.Raw, c.status, c.want)
		}
		if c.status == 405 && r.Header.Get("Allow") != strings.TrimSuffix(strings.SplitN(c.want, "takes ", 2)[1], `"}`) {
			t.Errorf("%s %s: Allow %q", c.method, c.path, r.Header.Get("Allow"))
		}
	}
}
