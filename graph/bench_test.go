package graph_test

import (
	"testing"

	"github.com/meridianplane/meridian/internal/testenv"
)

// BenchmarkClusterTree: the 50-cluster tree (nodes, labels, tenant) over
// GraphQL through the real HTTP server; reports SQL statements per query.
func BenchmarkClusterTree(b *testing.B) {
	e := testenv.Start(b, testenv.Databases()[0])
	token := e.AdminToken()
	populate(b, e, 50)
	b.ResetTimer()
	start := e.Statements()
	for i := 0; i < b.N; i++ {
		e.GQL(token, clusterTree, nil)
	}
	b.ReportMetric(float64(e.Statements()-start)/float64(b.N), "sql/op")
}

// BenchmarkRESTClusterList: GET /v1/cluster (100 clusters, page of 10) through
// the generated REST layer and the in-process GraphQL executor.
func BenchmarkRESTClusterList(b *testing.B) {
	e := testenv.Start(b, testenv.Databases()[0])
	token := e.AdminToken()
	populate(b, e, 100)
	b.ResetTimer()
	start := e.Statements()
	for i := 0; i < b.N; i++ {
		if r := e.Do("GET", "/v1/cluster?page=3&pageSize=10", nil, testenv.Auth(token)...); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
	b.ReportMetric(float64(e.Statements()-start)/float64(b.N), "sql/op")
}

// BenchmarkLogin: password check (bcrypt) and session creation.
func BenchmarkLogin(b *testing.B) {
	e := testenv.Start(b, testenv.Databases()[0])
	for i := 0; i < b.N; i++ {
		e.Login("admin", testenv.AdminPassword)
	}
}
