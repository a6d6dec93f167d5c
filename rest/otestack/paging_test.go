package otestack_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/rest/otestack"
)

// storeClusters writes n clusters c00001..cNNNNN (in that order) directly.
func storeClusters(t *testing.T, e *testenv.Env, n int) {
	t.Helper()
	ctx := e.Sys()
	tid := e.Client.Tenant.Query().FirstIDX(ctx)
	for i := 0; i < n; i += 500 {
		var cs []*ent.ClusterCreate
		for j := i; j < min(n, i+500); j++ {
			cs = append(cs, e.Client.Cluster.Create().SetTenantID(tid).SetName(fmt.Sprintf("c%05d", j+1)))
		}
		e.Client.Cluster.CreateBulk(cs...).ExecX(ctx)
	}
}

// clusterNames lists a page of /v1/cluster and returns its names and total.
func clusterNames(t *testing.T, e *testenv.Env, tok, query string) ([]string, float64) {
	t.Helper()
	r := e.Do("GET", "/v1/cluster?"+query, nil, testenv.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("%s: %d %s", query, r.Status, r.Raw)
	}
	var names []string
	for _, c := range r.Body["data"].([]any) {
		names = append(names, c.(map[string]any)["clusterName"].(string))
	}
	total, _ := r.Body["total"].(float64)
	return names, total
}

func span(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("c%05d", i))
	}
	return out
}

// TestRESTPaging: a list reads exactly its page; total counts every row;
// pageSize 0 is every row up to the cap; the caps answer 422 naming the
// parameter.
func TestRESTPaging(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		tok := e.AdminToken()
		const n = 1234
		storeClusters(t, e, n)
		for _, c := range []struct {
			query    string
			from, to int // names c<from>..c<to>; to < from: empty
		}{
			{"page=1&pageSize=10", 1, 10},
			{"pageSize=10", 1, 10},
			{"page=62&pageSize=10", 611, 620},
			{"page=124&pageSize=10", 1231, 1234}, // the last, short page
			{"page=125&pageSize=10", 1, 0},       // past the end: empty
			{"page=9999&pageSize=1000", 1, 0},
			{"page=2&pageSize=1000", 1001, 1234},
			{"pageSize=0", 1, 1000}, // every row up to the cap
			{"page=1&pageSize=0", 1, 1000},
			{"", 1, 1000}, // /v1/cluster defaults to pageSize 0
		} {
			names, total := clusterNames(t, e, tok, c.query)
			want := span(c.from, c.to)
			if total != n {
				t.Errorf("%s: total %v, want %d", c.query, total, n)
			}
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Errorf("%s: %d names %v..., want %d from %v", c.query, len(names), head(names), len(want), head(want))
			}
		}
		for _, c := range []struct{ query, field string }{
			{"pageSize=1001", "pageSize"},
			{"pageSize=-1", "pageSize"},
			{"pageSize=ten", "pageSize"},
			{"page=2&pageSize=0", "page"},
			{"page=0&pageSize=10", "page"},
			{fmt.Sprintf("page=%d&pageSize=10", 1<<20+1), "page"},
		} {
			r := e.Do("GET", "/v1/cluster?"+c.query, nil, testenv.Auth(tok)...)
			msg, _ := r.Body["message"].(string)
			if r.Status != 422 || r.Body["code"] != float64(422) || !strings.HasPrefix(msg, c.field+":") {
				t.Errorf("%s: %d %s, want 422 naming %s", c.query, r.Status, r.Raw, c.field)
			}
		}
	})
}

func head(s []string) []string { return s[:min(3, len(s))] }

// TestRESTPageStatements: page 1 and page 100 run the same statements; the
// page is one query with LIMIT and OFFSET, not a read of the rows before it.
func TestRESTPageStatements(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		tok := e.AdminToken()
		storeClusters(t, e, 1100)
		page := func(p int) []string {
			return e.CaptureSQL(func() {
				names, _ := clusterNames(t, e, tok, fmt.Sprintf("page=%d&pageSize=10", p))
				if want := span((p-1)*10+1, p*10); strings.Join(names, ",") != strings.Join(want, ",") {
					t.Fatalf("page %d: %v", p, names)
				}
			})
		}
		first, hundredth := page(1), page(100)
		if len(first) != len(hundredth) {
			t.Fatalf("page 1 ran %d statements, page 100 %d:\n%s\n--\n%s", len(first), len(hundredth), strings.Join(first, "\n"), strings.Join(hundredth, "\n"))
		}
		var paged []string
		for _, q := range hundredth {
			q = strings.ReplaceAll(q, "`", `"`) // SQLite quotes names with backticks
			if strings.Contains(q, `FROM "clusters"`) && strings.Contains(q, "LIMIT 11") {
				paged = append(paged, q)
			}
		}
		if len(paged) != 1 || !strings.Contains(paged[0], "OFFSET 990") {
			t.Fatalf("page 100: want one cluster query with LIMIT 11 OFFSET 990, got %q among\n%s", paged, strings.Join(hundredth, "\n"))
		}
		for _, q := range first {
			if strings.Contains(q, "OFFSET") {
				t.Fatalf("page 1 has an OFFSET: %s", q)
			}
		}
	})
}

// TestRESTListsAtMaxPageSize: every declared list answers its largest page
// within the declared operations' complexity budget.
func TestRESTListsAtMaxPageSize(t *testing.T) {
	db := testenv.Databases()[0]
	w := setup(t, db)
	n := 0
	for _, ep := range otestack.Endpoints {
		if ep.Page == nil || ep.Method != "GET" {
			continue
		}
		path := strings.ReplaceAll(ep.Path, "{clusterName}", "GuangZhou")
		sep := "?"
		for _, p := range ep.Params {
			if p.In == "query" && p.Required {
				path += sep + p.Name + "=x"
				sep = "&"
			}
		}
		r := w.do(call{"GET", path + sep + "pageSize=1000", nil, w.admin})
		if r.Status != 200 && r.Status != 404 {
			t.Errorf("%s %s: %d %s", ep.Name, path, r.Status, r.Raw)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d paged lists found", n)
	}
}
