package otestack_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/meridianplane/meridian/internal/restgen/contract"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/rest/otestack"
)

// apiContract checks the calls of a walk against openapi.json.
type apiContract struct {
	t testing.TB
	c *contract.Contract
}

func newContract(t testing.TB) *apiContract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(otestack.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c, err := contract.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiContract{t: t, c: c}
}

// check validates the request c, as sent, and its answer r.
func (k *apiContract) check(c call, r *testenv.Response) {
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
	req := httptest.NewRequest(c.method, c.path, nil)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	if err := k.c.Check(req, body, r.Status, r.Header, r.Raw); err != nil {
		k.t.Error(err)
	}
}

// exercisedAll fails on an operation of the document that no check routed to.
func (k *apiContract) exercisedAll() {
	k.t.Helper()
	for _, m := range k.c.Unexercised() {
		k.t.Errorf("openapi.json operation never exercised: %s", m)
	}
}
