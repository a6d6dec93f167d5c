package otestack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/rest/otestack"
)

// contract checks requests and their answers against the API's OpenAPI
// document (openapi3filter), and which operations were exercised.
type contract struct {
	t      testing.TB
	doc    *openapi3.T
	router routers.Router
	seen   map[string]bool // operation IDs
}

func newContract(t testing.TB) *contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(otestack.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, doc: doc, router: router, seen: map[string]bool{}}
}

// check validates the request c, as sent, and its answer r against the
// operation the request routes to.
func (k *contract) check(c call, r *testenv.Response) {
	k.t.Helper()
	var body []byte
	contentType := ""
	switch b := c.body.(type) {
	case nil:
	case form:
		body, contentType = b.data, b.contentType
	case string:
		body, contentType = []byte(b), "application/json"
	default:
		body, _ = json.Marshal(b)
		contentType = "application/json"
	}
	req := httptest.NewRequest(c.method, c.path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		k.t.Errorf("%s %s: no operation in openapi.json: %v", c.method, c.path, err)
		return
	}
	k.seen[route.Operation.OperationID] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	ctx := context.Background()
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		k.t.Errorf("%s %s (%s): the request does not fit the document: %v", c.method, c.path, route.Operation.OperationID, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader(r.Raw)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		k.t.Errorf("%s %s (%s): the answer does not fit the document: %v\n%s", c.method, c.path, route.Operation.OperationID, err, r.Raw)
	}
}

// exercisedAll fails on an operation of the document that no check routed to.
func (k *contract) exercisedAll() {
	k.t.Helper()
	var missed []string
	for path, item := range k.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !k.seen[op.OperationID] {
				missed = append(missed, method+" "+path+" ("+op.OperationID+")")
			}
		}
	}
	sort.Strings(missed)
	for _, m := range missed {
		k.t.Errorf("openapi.json operation never exercised: %s", m)
	}
}

func init() {
	// The document's string formats, as the REST layer checks them.
	for name, v := range rest.Formats {
		openapi3.DefineStringFormatValidator(name, v)
	}
}
