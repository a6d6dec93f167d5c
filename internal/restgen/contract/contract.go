// Package contract checks requests and answers against an API's OpenAPI
// document with kin-openapi's openapi3filter, and tells which operations of
// the document were exercised. The otestack tests and hack/otestack-smoke.sh
// (through cmd/openapicheck) use it.
package contract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/meridianplane/meridian/internal/rest"
)

// Contract is one document and the operations checked against it so far.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	seen   map[string]bool // operation IDs
}

// New routes requests by doc's paths.
func New(doc *openapi3.T) (*Contract, error) {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Contract{doc: doc, router: router, seen: map[string]bool{}}, nil
}

// Check validates a request as sent (reqBody is its body) and the answer
// it got against the operation it routes to: parameters, body, status
// (it must be documented) and the answer's body.
func (c *Contract) Check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	return c.check(req, reqBody, true, status, header, body)
}

// CheckAnswer is Check of the answer only (the request may be a wrong one
// on purpose).
func (c *Contract) CheckAnswer(req *http.Request, status int, header http.Header, body []byte) error {
	return c.check(req, nil, false, status, header, body)
}

func (c *Contract) check(req *http.Request, reqBody []byte, checkRequest bool, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no operation in the document: %w", req.Method, req.URL, err)
	}
	c.seen[route.Operation.OperationID] = true
	opts := []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(rest.Formats)}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SchemaValidationOptions: opts}}
	ctx := context.Background()
	if checkRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("%s %s (%s): the request does not fit the document: %w", req.Method, req.URL, route.Operation.OperationID, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, SchemaValidationOptions: opts}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s (%s): the answer does not fit the document: %w\n%s", req.Method, req.URL, route.Operation.OperationID, err, body)
	}
	return nil
}

// Unexercised lists the document's operations that no Check routed to.
func (c *Contract) Unexercised() []string {
	var missed []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !c.seen[op.OperationID] {
				missed = append(missed, method+" "+path+" ("+op.OperationID+")")
			}
		}
	}
	sort.Strings(missed)
	return missed
}
