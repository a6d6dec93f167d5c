package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/paging"
	"github.com/meridianplane/meridian/internal/testenv"
)

// storeTree writes clusters c0..c<n-1>; the first has nodes n0..n<m-1>.
func storeTree(t *testing.T, e *testenv.Env, n, m int) {
	t.Helper()
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	var cs []*ent.ClusterCreate
	for i := 0; i < n; i++ {
		cs = append(cs, e.Client.Cluster.Create().SetTenantID(tid).SetName(fmt.Sprintf("c%d", i)))
	}
	clusters := e.Client.Cluster.CreateBulk(cs...).SaveX(ctx)
	var ns []*ent.NodeCreate
	for j := 0; j < m; j++ {
		ns = append(ns, e.Client.Node.Create().SetTenantID(tid).SetClusterID(clusters[0].ID).SetName(fmt.Sprintf("n%d", j)).SetAddress("10.0.0.1"))
	}
	e.Client.Node.CreateBulk(ns...).ExecX(ctx)
}

// TestConnectionDefaults: a connection without first or last returns
// paging.DefaultFirst rows, nested ones too (in SQL, not after loading
// every row); totalCount still counts every row.
func TestConnectionDefaults(t *testing.T) {
	e := testenv.Start(t, sqlite())
	tok := e.AdminToken()
	const many = paging.DefaultFirst + 12
	storeTree(t, e, many, many)
	for _, q := range []struct {
		query string
		vars  map[string]any
	}{
		{`{ clusters { totalCount pageInfo { hasNextPage } edges { node { name } } } }`, nil},
		{`query($n: Int) { clusters(first: $n) { totalCount pageInfo { hasNextPage } edges { node { name } } } }`, map[string]any{"n": nil}},
		{`query($n: Int) { clusters(first: $n) { totalCount pageInfo { hasNextPage } edges { node { name } } } }`, nil},
		{`{ ...F } fragment F on Query { clusters { totalCount pageInfo { hasNextPage } edges { node { name } } } }`, nil},
	} {
		r := e.GQL(tok, q.query, q.vars).OK()
		if got := len(r.Get("clusters.edges").([]any)); got != paging.DefaultFirst {
			t.Errorf("%s: %d edges, want %d", q.query, got, paging.DefaultFirst)
		}
		if r.Num("clusters.totalCount") != many || r.Get("clusters.pageInfo.hasNextPage") != true {
			t.Errorf("%s: totalCount %v, hasNextPage %v", q.query, r.Get("clusters.totalCount"), r.Get("clusters.pageInfo.hasNextPage"))
		}
	}
	var r *testenv.Result
	sql := e.CaptureSQL(func() {
		r = e.GQL(tok, `{ clusters(first: 1) { edges { node { nodes { totalCount edges { node { name } } } } } } }`, nil).OK()
	})
	if got := len(r.Get("clusters.edges.0.node.nodes.edges").([]any)); got != paging.DefaultFirst {
		t.Errorf("nested connection: %d edges, want %d", got, paging.DefaultFirst)
	}
	if r.Num("clusters.edges.0.node.nodes.totalCount") != many {
		t.Errorf("nested totalCount %v", r.Get("clusters.edges.0.node.nodes.totalCount"))
	}
	bounded := false
	for _, s := range sql {
		if s := strings.ReplaceAll(s, "`", `"`); strings.Contains(s, `FROM "nodes"`) && strings.Contains(s, "row_number") {
			bounded = true
		}
	}
	if !bounded {
		t.Errorf("the nested nodes were not limited in SQL:\n%s", strings.Join(sql, "\n"))
	}
	// An explicit first is kept.
	r = e.GQL(tok, `{ clusters(first: 3) { edges { node { name } } } last: clusters(last: 2) { edges { node { name } } } }`, nil).OK()
	if len(r.Get("clusters.edges").([]any)) != 3 || len(r.Get("last.edges").([]any)) != 2 {
		t.Errorf("explicit first/last: %v", r.Data)
	}
}

// TestConnectionCaps: first and last may not exceed paging.MaxFirst; the
// error is BAD_USER_INPUT naming the argument and the connection's path.
func TestConnectionCaps(t *testing.T) {
	e := testenv.Start(t, sqlite())
	tok := e.AdminToken()
	e.GQL(tok, `{ clusters(first: 100) { totalCount } }`, nil).OK()
	for _, c := range []struct {
		query   string
		vars    map[string]any
		field   string
		message string
	}{
		{`{ clusters(first: 101) { totalCount } }`, nil, "first", "clusters: first: must be at most 100"},
		{`{ clusters(last: 1000) { totalCount } }`, nil, "last", "clusters: last: must be at most 100"},
		{`query($n: Int) { clusters(first: $n) { totalCount } }`, map[string]any{"n": 500}, "first", "clusters: first: must be at most 100"},
		{`{ clusters(first: -1) { totalCount } }`, nil, "first", "clusters: first: must be at least 0"},
		{`{ c: clusters(first: 1) { edges { node { nodes(first: 200) { totalCount } } } } }`, nil, "first", "c.edges.node.nodes: first: must be at most 100"},
		{`{ me { user { businesses(first: 101) { totalCount } } } }`, nil, "first", "me.user.businesses: first"},
	} {
		r := e.GQL(tok, c.query, c.vars)
		if r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || !strings.HasPrefix(r.Errors[0].Message, c.message) {
			t.Errorf("%s: %+v, want BAD_USER_INPUT naming %s: %q", c.query, r.Errors, c.field, c.message)
		}
	}
}

// TestComplexityNamesTheConnection: a query over the complexity limit is
// told which connection to bound.
func TestComplexityNamesTheConnection(t *testing.T) {
	e := testenv.Start(t, sqlite(), func(c *config.Config) { c.Complexity = 500 })
	tok := e.AdminToken()
	for _, c := range []struct{ query, conn, arg, size string }{
		{`{ clusters(first: 30) { edges { node { nodes(first: 30) { edges { node { id } } } } } } }`, "clusters", "first", "first: 30"},
		// The outer connection asks for one row: bound the inner one.
		{`{ clusters(first: 1) { edges { node { name nodes(first: 100) { edges { node { id name address } } } } } } }`, "clusters.edges.node.nodes", "first", "first: 100"},
		{`{ clusters(first: 1) { totalCount } big: clusterNodes(last: 100) { edges { node { id name address } } } }`, "big", "last", "last: 100"},
		// No first at all: the default counts.
		{`{ clusters { edges { node { nodes { edges { node { id } } } } } } }`, "clusters", "first", fmt.Sprintf("first: %d", paging.DefaultFirst)},
	} {
		r := e.GQL(tok, c.query, nil)
		if r.Code() != paging.Code {
			t.Errorf("%s: %+v, want %s", c.query, r.Errors, paging.Code)
			continue
		}
		msg, ext := r.Errors[0].Message, r.Errors[0].Extensions
		want := fmt.Sprintf("the most expensive connection is %s (%s", c.conn, c.size)
		if !strings.Contains(msg, want) || !strings.Contains(msg, "add or lower its "+c.arg+": argument") {
			t.Errorf("%s: message %q, want it to contain %q", c.query, msg, want)
		}
		if ext["connection"] != c.conn || ext["field"] != c.arg || ext["limit"] != float64(500) {
			t.Errorf("%s: extensions %v", c.query, ext)
		}
	}
}
