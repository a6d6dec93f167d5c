package rest

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meridianplane/meridian/internal/apierr"
)

func intp(n int) *int           { return &n }
func floatp(f float64) *float64 { return &f }

// TestParamValidation covers the declaration's validation kinds one by one.
func TestParamValidation(t *testing.T) {
	cases := []struct {
		p       Param
		body    string
		ok      bool
		want    any
		errText string
	}{
		{Param{Name: "id", In: "body", Type: "string", Format: "uuid"}, `{"id": "6c34848e-4ac3-4b0e-8b25-1c3b4cc57329"}`, true, "6c34848e-4ac3-4b0e-8b25-1c3b4cc57329", ""},
		{Param{Name: "id", In: "body", Type: "string", Format: "uuid"}, `{"id": "nope"}`, false, nil, "id: must be a UUID"},
		{Param{Name: "ip", In: "body", Type: "string", Format: "ip"}, `{"ip": "10.0.0.1"}`, true, "10.0.0.1", ""},
		{Param{Name: "ip", In: "body", Type: "string", Format: "ip"}, `{"ip": "::1"}`, true, "::1", ""},
		{Param{Name: "ip", In: "body", Type: "string", Format: "ip"}, `{"ip": "10.0.0.300"}`, false, nil, "ip: must be an IP address"},
		{Param{Name: "n", In: "body", Type: "integer", Minimum: floatp(1), Maximum: floatp(10)}, `{"n": 10}`, true, int64(10), ""},
		{Param{Name: "n", In: "body", Type: "integer", Minimum: floatp(1), Maximum: floatp(10)}, `{"n": 11}`, false, nil, "n: must be at most 10"},
		{Param{Name: "n", In: "body", Type: "integer", Minimum: floatp(1)}, `{"n": 0}`, false, nil, "n: must be at least 1"},
		{Param{Name: "n", In: "body", Type: "integer"}, `{"n": 1.5}`, false, nil, "n: must be an integer"},
		{Param{Name: "n", In: "body", Type: "integer"}, `{"n": "3"}`, false, nil, "n: must be an integer"},
		{Param{Name: "n", In: "body", Type: "integer"}, `{"n": 3.0}`, true, int64(3), ""},
		{Param{Name: "s", In: "body", Type: "string", MaxLength: intp(3)}, `{"s": "abcd"}`, false, nil, "s: must be at most 3 characters"},
		{Param{Name: "s", In: "body", Type: "string", MaxLength: intp(3)}, `{"s": "äöü"}`, true, "äöü", ""},
		{Param{Name: "s", In: "body", Type: "string", Required: true}, `{}`, false, nil, "s: is required"},
		{Param{Name: "s", In: "body", Type: "string", Required: true}, `{"s": null}`, false, nil, "s: is required"},
		{Param{Name: "e", In: "body", Type: "string", Enum: []any{"a", "b"}}, `{"e": "c"}`, false, nil, "e: must be one of a, b"},
		{Param{Name: "m", In: "body", Type: "integer", Map: map[string]any{"0": "pending", "1": "active"}}, `{"m": 1}`, true, "active", ""},
		{Param{Name: "m", In: "body", Type: "integer", Map: map[string]any{"0": "pending", "1": "active"}}, `{"m": 7}`, false, nil, "m: must be one of 0, 1"},
		{Param{Name: "l", In: "body", Type: "array", Items: "integer", MinItems: intp(1)}, `{"l": []}`, false, nil, "l: must have at least 1 item(s)"},
		{Param{Name: "l", In: "body", Type: "array", Items: "integer"}, `{"l": [1, "x"]}`, false, nil, "l[1]: must be an integer"},
		{Param{Name: "b", In: "body", Type: "boolean"}, `{"b": "true"}`, false, nil, "b: must be true or false"},
		{Param{Name: "d", In: "body", Type: "integer", Default: 5}, `{}`, true, int64(5), ""},
		{Param{Name: "q", In: "body", Type: "string", Omit: []string{"all"}}, `{"q": "all"}`, false, nil, ""},
		{Param{Name: "v", In: "body", Type: "string", Pattern: `^\d+\.\d+$`}, `{"v": "1.2"}`, true, "1.2", ""},
		{Param{Name: "v", In: "body", Type: "string", Pattern: `^\d+\.\d+$`}, `{"v": "1.2.3"}`, false, nil, `v: must match ^\d+\.\d+$`},
		{Param{Name: "s", In: "body", Type: "string", MinLength: intp(1)}, `{"s": ""}`, false, nil, "s: must not be empty"},
		{Param{Name: "l", In: "body", Type: "array", Items: "string", MaxLength: intp(2)}, `{"l": ["ab", "abc"]}`, false, nil, "l[1]: must be at most 2 characters"},
		{Param{Name: "l", In: "body", Type: "array", Items: "integer", MaxItems: intp(1)}, `{"l": [1, 2]}`, false, nil, "l: must have at most 1 items"},
		{Param{Name: "l", In: "body", Type: "array", Items: "string"}, `{"l": "x"}`, false, nil, "l: must be an array"},
		{Param{Name: "o", In: "body", Type: "object"}, `{"o": [1]}`, false, nil, "o: must be an object"},
		{Param{Name: "b", In: "body", Type: "integer", Map: map[string]any{"0": true, "1": false}}, `{"b": 0}`, true, true, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		body, err := readBody(r)
		if err != nil {
			t.Fatal(err)
		}
		v, ok, err := c.p.bind(r, body)
		if c.errText != "" {
			if err == nil || err.Error() != c.errText || !apierr.Is(err, apierr.BadUserInput) {
				t.Errorf("%s %s: err %v, want %q", c.p.Name, c.body, err, c.errText)
			}
			continue
		}
		if err != nil || ok != c.ok || v != c.want {
			t.Errorf("%s %s: got %v %v %v, want %v %v", c.p.Name, c.body, v, ok, err, c.want, c.ok)
		}
	}
}

func TestQueryParams(t *testing.T) {
	p := Param{Name: "page", In: "query", Type: "integer"}
	r := httptest.NewRequest("GET", "/?page=2", nil)
	if v, ok, err := p.bind(r, nil); err != nil || !ok || v != int64(2) {
		t.Fatalf("page=2: %v %v %v", v, ok, err)
	}
	r = httptest.NewRequest("GET", "/?page=two", nil)
	if _, _, err := p.bind(r, nil); err == nil || err.Error() != "page: must be an integer" {
		t.Fatalf("page=two: %v", err)
	}
	b := Param{Name: "flag", In: "query", Type: "boolean"}
	r = httptest.NewRequest("GET", "/?flag=true", nil)
	if v, _, err := b.bind(r, nil); err != nil || v != true {
		t.Fatalf("flag=true: %v %v", v, err)
	}
}

// TestSchemaIsTheValidation: the schema a parameter documents is the one
// it validates with.
func TestSchemaIsTheValidation(t *testing.T) {
	p := Param{Name: "ids", In: "query", Type: "array", Items: "integer", MaxItems: intp(2), Minimum: floatp(1), Map: map[string]any{"1": "ONE", "2": "TWO"}}
	s := p.Schema()
	if *s.MaxItems != 2 || *s.Items.Value.Min != 1 || len(s.Items.Value.Enum) != 2 || s.Items.Value.Enum[0] != int64(1) {
		t.Fatalf("schema %+v items %+v", s, s.Items.Value)
	}
	r := httptest.NewRequest("GET", "/?ids=1,2", nil)
	if v, ok, err := p.bind(r, nil); err != nil || !ok || fmt.Sprint(v) != "[ONE TWO]" {
		t.Fatalf("ids=1,2: %v %v %v", v, ok, err)
	}
	r = httptest.NewRequest("GET", "/?ids=1,3", nil)
	if _, _, err := p.bind(r, nil); err == nil || err.Error() != "ids[1]: must be one of 1, 2" {
		t.Fatalf("ids=1,3: %v", err)
	}
	r = httptest.NewRequest("GET", "/?ids=1,x", nil)
	if _, _, err := p.bind(r, nil); err == nil || err.Error() != "ids[1]: must be an integer" {
		t.Fatalf("ids=1,x: %v", err)
	}
}

func TestSetPath(t *testing.T) {
	vars := map[string]any{}
	setPath(vars, "where.hasLabelsWith[].name", "x")
	setPath(vars, "where.ready", true)
	want := `map[where:map[hasLabelsWith:[map[name:x]] ready:true]]`
	if got := strings.ReplaceAll(fmtAny(vars), "  ", " "); got != want {
		t.Fatalf("got %s", got)
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }
