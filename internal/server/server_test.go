package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/testenv"
)

func sqlite() testenv.Database { return testenv.Databases()[0] }

func TestServiceEndpoints(t *testing.T) {
	e := testenv.Start(t, sqlite())
	if r := e.Do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	if r := e.Do("GET", "/readyz", nil); r.Status != 200 || r.Body["database"] != "ok" {
		t.Errorf("readyz: %d %s", r.Status, r.Raw)
	}
	e.Do("GET", "/v1/cluster", nil, testenv.Auth(e.AdminToken())...)
	r := e.Do("GET", "/metrics", nil)
	if r.Status != 200 || !strings.Contains(string(r.Raw), `meridian_http_requests_total{code="200",method="GET",route="/v1/cluster"}`) {
		t.Errorf("metrics lack the per-route counter:\n%.2000s", r.Raw)
	}
	if !strings.Contains(string(r.Raw), "meridian_http_request_duration_seconds_bucket") {
		t.Errorf("metrics lack the latency histogram")
	}
	r = e.Do("GET", "/playground", nil)
	if r.Status != 200 || !strings.Contains(string(r.Raw), "/playground/assets/graphiql.min.js") || strings.Contains(string(r.Raw), "cdn") {
		t.Errorf("playground page: %d", r.Status)
	}
	for _, a := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"} {
		if r := e.Do("GET", "/playground/assets/"+a, nil); r.Status != 200 || len(r.Raw) < 1000 {
			t.Errorf("playground asset %s: %d", a, r.Status)
		}
	}
	r = e.Do("GET", "/openapi/otestack.json", nil)
	var doc map[string]any
	if err := json.Unmarshal(r.Raw, &doc); err != nil || doc["openapi"] != "3.0.3" {
		t.Errorf("openapi: %d %v", r.Status, err)
	}
	if testenv.Path(doc, "paths./v1/cluster.get.responses.200") == nil {
		t.Errorf("openapi lacks GET /v1/cluster")
	}
	if r := e.Do("GET", "/", nil); r.Status != 200 || !strings.Contains(string(r.Raw), "Meridian") {
		t.Errorf("console: %d", r.Status)
	}
	if r := e.Do("GET", "/v1/no/such/thing", nil); r.Status != 404 || r.Body["code"] != float64(404) {
		t.Errorf("unknown /v1 path: %d %s", r.Status, r.Raw)
	}
}

func TestGraphQLLimits(t *testing.T) {
	e := testenv.Start(t, sqlite(), func(c *config.Config) {
		c.Complexity = 500
		c.Depth = 6
		c.Introspection = false
		c.BodyLimit = 4096
	})
	tok := e.AdminToken()
	// first: multiplies the complexity of a connection.
	r := e.GQL(tok, `{ clusters(first: 100) { edges { node { id name ready } } } }`, nil)
	if r.Code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("first: 100 passed the complexity limit: %v", r.Errors)
	}
	e.GQL(tok, `{ clusters(first: 10) { edges { node { id name } } } }`, nil).OK()
	// Nested connections multiply; the error names the one to bound.
	r = e.GQL(tok, `{ clusters(first: 30) { edges { node { nodes(first: 30) { edges { node { id } } } } } } }`, nil)
	if r.Code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("nested connections passed the complexity limit: %v", r.Errors)
	}
	// Depth.
	r = e.GQL(tok, `{ clusters(first: 1) { edges { node { nodes(first: 1) { edges { node { cluster { tenant { name } } } } } } } } }`, nil)
	if r.Code() != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("depth limit: %v", r.Errors)
	}
	// Introspection off.
	r = e.GQL(tok, `{ __schema { types { name } } }`, nil)
	if len(r.Errors) == 0 {
		t.Errorf("introspection answered while switched off")
	}
	// Body limit.
	big := `{"query":"{ me { displayName } }","variables":{"pad":"` + strings.Repeat("x", 8192) + `"}}`
	res := e.Do("POST", "/graphql", big, testenv.Auth(tok)...)
	if res.Status < 400 {
		t.Errorf("an oversized GraphQL body was accepted: %d", res.Status)
	}
	res = e.Do("POST", "/v1/business", `{"name":"`+strings.Repeat("x", 8192)+`"}`, testenv.Auth(tok)...)
	if res.Status != 422 || !strings.Contains(res.Body["message"].(string), "body") {
		t.Errorf("an oversized REST body: %d %s", res.Status, res.Raw)
	}
}

func TestIntrospectionOnByDefault(t *testing.T) {
	e := testenv.Start(t, sqlite())
	e.GQL("", `{ __schema { queryType { name } } }`, nil).OK()
}

// TestBootstrapOnce: the super-admin is created on an empty database only.
func TestBootstrapOnce(t *testing.T) {
	dsn := "sqlite://" + t.TempDir() + "/m.db"
	e := testenv.StartDSN(t, dsn, func(c *config.Config) { c.AdminPassword = "" })
	pw := e.Server.AdminPassword
	if len(pw) < 16 {
		t.Fatalf("generated admin password %q", pw)
	}
	e.Login("admin", pw)
	e.HTTP.Close()
	e.DB.Close()
	e2 := testenv.StartDSN(t, dsn, func(c *config.Config) { c.AdminPassword = "" })
	if e2.Server.AdminPassword != "" {
		t.Fatalf("a second start generated another password")
	}
	e2.Login("admin", pw)
}

// TestGracefulShutdown: cancelling Run's context stops the server cleanly
// and lets an in-flight request finish.
func TestGracefulShutdown(t *testing.T) {
	e := testenv.Start(t, sqlite())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Server.Run(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	testenv.Eventually(t, 5*time.Second, func() bool {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// TestSimulatorWhenNoClusterConfigured: a server on a database without a
// connected cluster (say, one from before clusters could connect) gets the
// simulated cluster "local"; a second start adds no other.
func TestSimulatorWhenNoClusterConfigured(t *testing.T) {
	dsn := "sqlite://" + t.TempDir() + "/s.db"
	e := testenv.StartDSN(t, dsn)
	tok := e.AdminToken()
	e.GQL(tok, `mutation { createCluster(input: {name: "record-only"}) { id } }`, nil).OK()
	e.HTTP.Close()
	e.Server.Close()
	e.DB.Close()
	for i := 0; i < 2; i++ {
		e2 := testenv.StartDSN(t, dsn, testenv.WithSimulator)
		r := e2.GQL(e2.AdminToken(), `{ clusters(orderBy: {field: NAME}) { totalCount edges { node { name } } } }`, nil).OK()
		if r.Num("clusters.totalCount") != 2 || r.Str("clusters.edges.0.node.name") != "local" {
			t.Fatalf("start %d: %v", i, r.Data)
		}
		e2.HTTP.Close()
		e2.Server.Close()
		e2.DB.Close()
	}
}
