package rest_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/internal/restgen"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

// These tests mount the APPO-, LAIN- and Commissaire-shaped declarations of
// internal/restgen/testdata on a real Meridian's GraphQL server and check the
// bytes on the wire.

// mount loads testdata/<name> and serves it, through the real server's
// GraphQL and authentication, behind the client-address middleware that
// trusts the given proxies.
func mount(t *testing.T, e *testenv.Env, name string, hook rest.Hook, trusted ...netip.Prefix) string {
	t.Helper()
	schema, err := restgen.LoadSchema("../../graph/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := restgen.Load("../restgen/testdata/"+name, schema)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(rest.ClientAddress(trusted))
	rest.Mount(r, rest.API{Name: spec.API, Prefix: spec.Prefix, Endpoints: spec.Endpoints, Conventions: spec.Conventions, Hook: hook},
		e.Server.GraphQL, e.Server.Auth)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// answer is one raw HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

// send makes one request; headers are name/value pairs, sent as written.
func send(t *testing.T, method, url, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header[headers[i]] = []string{headers[i+1]}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (a answer) expect(t *testing.T, what string, status int, body string) {
	t.Helper()
	if a.status != status || a.body != body {
		t.Errorf("%s: got %d %q, want %d %q", what, a.status, a.body, status, body)
	}
}

// tenantInPath is APPO's rule: tenant_id in the path is the caller's
// tenant, unless the caller is an admin.
func tenantInPath(ctx context.Context, c *rest.Call) error {
	id, ok := c.Params["tenant_id"]
	if !ok {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.IsAdmin() || id == strconv.Itoa(v.TenantID) { // nil: a public endpoint
		return nil
	}
	return apierr.For(apierr.Forbidden, "tenant_id", "not the caller's tenant")
}

// fixture is two users with clusters and nodes of their own.
type fixture struct {
	e                      *testenv.Env
	admin, alice, bob      string // tokens
	aliceTenant, bobTenant string
	c1, c2, b1             string // cluster IDs: alice's c1 (ready) and c2, bob's b1
}

func newFixture(t *testing.T, db testenv.Database) *fixture {
	e := testenv.Start(t, db)
	f := &fixture{e: e, admin: e.AdminToken()}
	f.alice, _ = e.NewUser("alice", "normal")
	f.bob, _ = e.NewUser("bob", "normal")
	f.aliceTenant = e.GQL(f.alice, `{ me { tenant { id } } }`, nil).OK().Str("me.tenant.id")
	f.bobTenant = e.GQL(f.bob, `{ me { tenant { id } } }`, nil).OK().Str("me.tenant.id")
	cluster := func(tok, name string, ready bool) string {
		return e.GQL(tok, `mutation($n: String!, $r: Boolean) { createCluster(input: {name: $n, ready: $r}) { id } }`,
			map[string]any{"n": name, "r": ready}).OK().Str("createCluster.id")
	}
	f.c1, f.c2, f.b1 = cluster(f.alice, "c1", true), cluster(f.alice, "c2", false), cluster(f.bob, "b1", true)
	e.GQL(f.alice, `mutation($c: ID!) { createClusterNode(input: {clusterID: $c, name: "n1", address: "10.0.0.7", cpus: 4}) { id } }`,
		map[string]any{"c": f.c1}).OK()
	return f
}

func TestAPPOShapes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		f := newFixture(t, db)
		url := mount(t, f.e, "appo", tenantInPath)
		tok := func(s string) []string { return []string{"access_token", s} }

		// A bare top-level list.
		list := url + "/appo/v1/tenants/" + f.aliceTenant + "/app_instance_infos"
		send(t, "GET", list, "", tok(f.alice)...).expect(t, "bare list", 200,
			fmt.Sprintf(`[{"appInstanceId":"%s","appName":"c1","operationalStatus":"Instantiated"},{"appInstanceId":"%s","appName":"c2","operationalStatus":"Created"}]`+"\n", f.c1, f.c2))
		// The hook: another tenant's tenant_id is refused, except for admins.
		bobs := url + "/appo/v1/tenants/" + f.bobTenant + "/app_instance_infos"
		send(t, "GET", bobs, "", tok(f.alice)...).expect(t, "another tenant", 403,
			`{"code":"FORBIDDEN","message":"tenant_id: not the caller's tenant"}`+"\n")
		send(t, "GET", bobs, "", tok(f.admin)...).expect(t, "an admin, another tenant", 200,
			fmt.Sprintf(`[{"appInstanceId":"%s","appName":"b1","operationalStatus":"Instantiated"}]`+"\n", f.b1))
		// Only the declared header carries the token.
		send(t, "GET", list, "", "Authorization", f.alice).expect(t, "a token in Authorization", 401,
			`{"code":"UNAUTHENTICATED","message":"authentication required"}`+"\n")
		send(t, "GET", list, "").expect(t, "no token", 401, `{"code":"UNAUTHENTICATED","message":"authentication required"}`+"\n")
		// {"response": ...}, by path and by header.
		one := fmt.Sprintf(`{"response":{"appInstanceId":"%s","appName":"c1"}}`+"\n", f.c1)
		send(t, "GET", url+"/appo/v1/tenants/"+f.aliceTenant+"/app_instances/"+f.c1, "", tok(f.alice)...).expect(t, "response shape", 200, one)
		send(t, "GET", url+"/appo/v1/tenants/"+f.aliceTenant+"/app_instances", "", append(tok(f.alice), "app_instance_id", f.c1)...).expect(t, "header parameter", 200, one)
		send(t, "GET", url+"/appo/v1/tenants/"+f.aliceTenant+"/app_instances", "", tok(f.alice)...).expect(t, "header parameter missing", 400,
			`{"code":"BAD_USER_INPUT","message":"app_instance_id: is required"}`+"\n")
		send(t, "GET", url+"/appo/v1/tenants/"+f.aliceTenant+"/app_instances/"+f.b1, "", tok(f.alice)...).expect(t, "bob's instance", 404,
			`{"code":"NOT_FOUND","message":"not found"}`+"\n")
		// The VIM shape, and its own error shape and statuses.
		flavors := url + "/appo/v1/tenants/" + f.aliceTenant + "/hosts/10.0.0.7/flavors"
		send(t, "GET", flavors, "", tok(f.alice)...).expect(t, "VIM shape", 200,
			`{"data":[{"name":"n1","vcpus":4}],"retCode":0,"message":"Query flavor success","params":null}`+"\n")
		send(t, "GET", strings.Replace(flavors, "10.0.0.7", "10.0.0.300", 1), "", tok(f.alice)...).expect(t, "VIM error", 400,
			`{"data":null,"retCode":400,"message":"host_ip: must be an IP address","params":null}`+"\n")
		// A public endpoint with no body.
		send(t, "GET", url+"/appo/v1/health", "").expect(t, "health", 200, "")
		// A wrong method: 405 with Allow, in the API's error shape.
		a := send(t, "DELETE", list, "", tok(f.alice)...)
		a.expect(t, "wrong method", 405, `{"code":"METHOD_NOT_ALLOWED","message":"DELETE /appo/v1/tenants/`+f.aliceTenant+`/app_instance_infos: this path takes GET"}`+"\n")
		if a.header.Get("Allow") != "GET" {
			t.Errorf("Allow: %q", a.header.Get("Allow"))
		}
		send(t, "GET", url+"/appo/v1/nothing", "", tok(f.alice)...).expect(t, "unknown path", 404,
			`{"code":"NOT_FOUND","message":"no endpoint at /appo/v1/nothing"}`+"\n")
	})
}

func TestLAINShapes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		f := newFixture(t, db)
		url := mount(t, f.e, "lain", nil)
		tok := []string{"access-token", f.alice}
		// {"<key>": ..., "msg", "url"}, with and without the trailing slash.
		for _, p := range []string{"/api/v1/repos/", "/api/v1/repos"} {
			send(t, "GET", url+p, "", tok...).expect(t, p, 200, `{"repos":[{"appname":"c1"},{"appname":"c2"}],"msg":"repos listed","url":"`+p+`"}`+"\n")
		}
		// An alias, with and without the slash.
		for _, p := range []string{"/api/v1/repos/c1/", "/api/v1/repos/c1", "/api/v1/apps/c1/", "/api/v1/apps/c1"} {
			send(t, "GET", url+p, "", tok...).expect(t, p, 200, `{"app":{"appname":"c1"},"msg":"repo found","url":"`+p+`"}`+"\n")
		}
		send(t, "GET", url+"/api/v1/apps/b1/", "", tok...).expect(t, "bob's app", 404, `{"msg":"not found","url":"/api/v1/apps/b1/"}`+"\n")
		send(t, "GET", url+"/api/v1/repos/c1/roles", "", tok...).expect(t, "role", 200, `{"role":{"role":"normal","apps":1},"msg":"role of the caller","url":"/api/v1/repos/c1/roles"}`+"\n")
		// Only access-token carries the token here.
		send(t, "GET", url+"/api/v1/repos/", "", "access_token", f.alice).expect(t, "APPO's header", 401,
			`{"msg":"authentication required","url":"/api/v1/repos/"}`+"\n")
		send(t, "GET", url+"/api/v1/repos/", "", "access-token", "garbage").expect(t, "a bad token", 401,
			`{"msg":"token invalid","url":"/api/v1/repos/"}`+"\n")
		for _, p := range []string{"/api/v1/repos/", "/api/v1/repos"} {
			a := send(t, "POST", url+p, `{}`, tok...)
			if a.status != 405 || a.header.Get("Allow") != "GET" || !strings.HasPrefix(a.body, `{"msg":"POST `+p+`: this path takes GET"`) {
				t.Errorf("POST %s: %d %q Allow %q", p, a.status, a.body, a.header.Get("Allow"))
			}
		}
	})
}

func TestCommissaireShapes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		f := newFixture(t, db)
		proxied := mount(t, f.e, "commissaire", nil, netip.MustParsePrefix("127.0.0.0/8"))
		direct := mount(t, f.e, "commissaire", nil)
		basic := []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:password1"))}
		body := `{"cluster": "` + f.c2 + `"}`

		// The host's address is the caller's: the connection's peer...
		send(t, "PUT", direct+"/api/v0/host", body, basic...).expect(t, "add self", 201, `{"address":"127.0.0.1","cpus":0}`+"\n")
		// ...whatever it claims, unless it is a trusted proxy.
		send(t, "PUT", direct+"/api/v0/host", body, append(basic, "X-Forwarded-For", "192.168.100.50")...).expect(t, "a spoofed address", 409, "")
		send(t, "PUT", proxied+"/api/v0/host", body, append(basic, "X-Forwarded-For", "192.168.100.50")...).expect(t, "add self behind a proxy", 201,
			`{"address":"192.168.100.50","cpus":0}`+"\n")
		send(t, "PUT", proxied+"/api/v0/host/192.168.100.51", body, basic...).expect(t, "add by address", 201, `{"address":"192.168.100.51","cpus":0}`+"\n")
		// A bare list of strings and a bare object.
		send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "", basic...).expect(t, "host addresses", 200, `["127.0.0.1","192.168.100.50","192.168.100.51"]`+"\n")
		send(t, "GET", direct+"/api/v0/host/192.168.100.50", "", basic...).expect(t, "host", 200, `{"address":"192.168.100.50","cpus":0}`+"\n")
		// Errors answer bare statuses.
		send(t, "GET", direct+"/api/v0/host/10.9.9.9", "", basic...).expect(t, "unknown host", 404, "")
		send(t, "PUT", direct+"/api/v0/host/nope", body, basic...).expect(t, "not an address", 400, "")
		a := send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "")
		a.expect(t, "no credentials", 401, "")
		if a.header.Get("WWW-Authenticate") != `Basic realm="commissaire"` {
			t.Errorf("WWW-Authenticate: %q", a.header.Get("WWW-Authenticate"))
		}
		send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:wrong"))).expect(t, "a wrong password", 401, "")
		// Bearer tokens too, but not a raw token (no header scheme is declared).
		send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "", "Authorization", "Bearer "+f.alice).expect(t, "bearer", 200, `["127.0.0.1","192.168.100.50","192.168.100.51"]`+"\n")
		send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "", "Authorization", f.alice).expect(t, "a raw token", 401, "")
		// The empty shape on success.
		id := f.e.GQL(f.alice, `{ clusterNodes(where: {address: "127.0.0.1"}) { edges { node { id } } } }`, nil).OK().Str("clusterNodes.edges.0.node.id")
		send(t, "DELETE", direct+"/api/v0/node/"+id, "", basic...).expect(t, "delete", 200, "")
		send(t, "GET", direct+"/api/v0/cluster/c2/hosts", "", basic...).expect(t, "after delete", 200, `["192.168.100.50","192.168.100.51"]`+"\n")
		a = send(t, "POST", direct+"/api/v0/host/1.2.3.4", body, basic...)
		a.expect(t, "wrong method", 405, "")
		if a.header.Get("Allow") != "GET, PUT" {
			t.Errorf("Allow: %q", a.header.Get("Allow"))
		}
	})
}
