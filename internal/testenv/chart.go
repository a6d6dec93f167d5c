package testenv

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// ChartArchive builds a real chart archive: Helm's scaffold (a Deployment
// and Service of nginx), packaged at the given chart version.
func ChartArchive(t testing.TB, name, version string) []byte {
	t.Helper()
	path, err := chartutil.Create(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ch.Metadata.Version = version
	file, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Upload posts a GraphQL multipart request (the multipart request spec)
// with one file bound to the variable at path (e.g. "input.chart").
func (e *Env) Upload(token, query string, vars map[string]any, path string, file []byte) *Result {
	e.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = w.WriteField("operations", string(ops))
	m, _ := json.Marshal(map[string][]string{"0": {"variables." + path}})
	_ = w.WriteField("map", string(m))
	fw, _ := w.CreateFormFile("0", "chart.tgz")
	_, _ = fw.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.result(req)
}
