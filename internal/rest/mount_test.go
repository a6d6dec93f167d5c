package rest

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	eps := []Endpoint{
		{Name: "list", Method: "GET", Path: "/api/v1/repos/"},
		{Name: "get", Method: "GET", Path: "/api/v1/repos/{app}/", Aliases: []string{"/api/v1/apps/{app}/"}},
		{Name: "del", Method: "DELETE", Path: "/api/v1/repos/{name}"},
	}
	routes, err := Routes(eps, TrailingSlashOptional)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range routes {
		got = append(got, r.Method+" "+r.Path+" "+r.Endpoint.Name)
	}
	want := []string{
		"GET /api/v1/repos/ list", "GET /api/v1/repos list",
		"GET /api/v1/repos/{app}/ get", "GET /api/v1/repos/{app} get", "GET /api/v1/apps/{app}/ get", "GET /api/v1/apps/{app} get",
		"DELETE /api/v1/repos/{name} del", "DELETE /api/v1/repos/{name}/ del",
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes:\n got %q\nwant %q", got, want)
	}
	if got := allowed(routes, "/api/v1/repos/x"); !slices.Equal(got, []string{"DELETE", "GET"}) {
		t.Errorf("allowed: %v", got)
	}
	if got := allowed(routes, "/api/v1/apps/x"); !slices.Equal(got, []string{"GET"}) {
		t.Errorf("allowed on the alias: %v", got)
	}
	if got := allowed(routes, "/api/v1/repos//"); got != nil {
		t.Errorf("an empty segment is no parameter: %v", got)
	}
	// Exact paths: the slash makes another route.
	if _, err := Routes(append(eps, Endpoint{Name: "x", Method: "GET", Path: "/api/v1/repos"}), ""); err != nil {
		t.Errorf("without the option: %v", err)
	}
	_, err = Routes(append(eps, Endpoint{Name: "x", Method: "GET", Path: "/api/v1/repos"}), TrailingSlashOptional)
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/repos (endpoint x) takes the same requests as GET /api/v1/repos/ (endpoint list)") {
		t.Errorf("with the option: %v", err)
	}
}

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, peer string
		headers    map[string]string
		want       string
	}{
		{"a direct caller", "192.0.2.7:5555", nil, "192.0.2.7"},
		{"a direct caller's forwarded header is ignored", "192.0.2.7:5555", map[string]string{"X-Forwarded-For": "198.51.100.1"}, "192.0.2.7"},
		{"a direct caller's X-Real-IP is ignored", "192.0.2.7:5555", map[string]string{"X-Real-IP": "198.51.100.1"}, "192.0.2.7"},
		{"behind a trusted proxy", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "198.51.100.1"}, "198.51.100.1"},
		{"the right-most untrusted hop", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.1, 10.2.2.2"}, "198.51.100.1"},
		{"every hop trusted", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage from an untrusted hop", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "not-an-ip, 10.2.2.2"}, "10.2.2.2"},
		{"X-Real-IP from a trusted proxy", "10.1.1.1:80", map[string]string{"X-Real-IP": "198.51.100.1"}, "198.51.100.1"},
		{"a trusted proxy forwarding nothing", "10.1.1.1:80", nil, "10.1.1.1"},
		{"IPv6 with a port", "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"an IPv4-mapped IPv6 peer", "[::ffff:192.0.2.7]:443", nil, "192.0.2.7"},
		{"an IPv6 proxy", "[fd00::1]:443", map[string]string{"X-Forwarded-For": "[2001:db8::2]:1234"}, "2001:db8::2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got string
			h := ClientAddress(proxies)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != c.want {
				t.Errorf("client %q, want %q", got, c.want)
			}
		})
	}
}

// TestShapes renders shapes as OTE-Stack's envelope, APPO's and LAIN's
// answers and errors would.
func TestShapes(t *testing.T) {
	resp := &Object{}
	resp.Set("data", []any{1, 2})
	resp.Set("total", 2)
	obj := func(fields ...ShapeField) *Shape { return &Shape{Kind: ShapeObject, Fields: fields} }
	v := func(name string) *Shape { return &Shape{Kind: ShapeVar, Var: name} }
	c := func(x any) *Shape { return &Shape{Kind: ShapeConst, Const: x} }
	f := func(name string, s *Shape) ShapeField { return ShapeField{Name: name, Value: s} }
	a := &answer{response: resp, status: 200, message: "done", url: "/x/", code: "NOT_FOUND"}
	cases := []struct {
		name  string
		shape *Shape
		want  string
	}{
		{"envelope", obj(f("code", v("status")), f("message", c("success")), f(Spread, v("response"))), `{"code":200,"message":"success","data":[1,2],"total":2}`},
		{"bare", v("response"), `{"data":[1,2],"total":2}`},
		{"response", obj(f("response", v("response"))), `{"response":{"data":[1,2],"total":2}}`},
		{"vim", obj(f("data", v("response")), f("retCode", c(0)), f("message", v("message")), f("params", c(nil))), `{"data":{"data":[1,2],"total":2},"retCode":0,"message":"done","params":null}`},
		{"lain", obj(f(Spread, v("response")), f("msg", v("message")), f("url", v("url"))), `{"data":[1,2],"total":2,"msg":"done","url":"/x/"}`},
		{"error", obj(f("code", v("code")), f("field", v("field")), f("nested", obj(f("status", v("status"))))), `{"code":"NOT_FOUND","field":null,"nested":{"status":200}}`},
		{"literal list", obj(f("params", c([]any{}))), `{"params":[]}`},
	}
	for _, cs := range cases {
		w := httptest.NewRecorder()
		cs.shape.write(w, a)
		if got := w.Body.String(); got != cs.want+"\n" || w.Code != 200 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %q", cs.name, w.Code, got)
		}
	}
	w := httptest.NewRecorder()
	(*Shape)(nil).write(w, &answer{status: 204})
	if w.Code != 204 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Errorf("empty: %d %q", w.Code, w.Body.String())
	}
}
