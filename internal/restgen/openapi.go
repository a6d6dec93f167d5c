package restgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/rest"
)

// OpenAPI builds the API's OpenAPI 3 document and validates it with
// kin-openapi (examples included): an invalid document fails generation.
func (s *Spec) OpenAPI() (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info:    &openapi3.Info{Title: s.Title, Version: s.Version, Description: s.Description},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:         openapi3.Schemas{},
			SecuritySchemes: openapi3.SecuritySchemes{},
		},
	}
	for _, a := range s.Auth {
		name, sch := securityScheme(a)
		doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: sch}
		doc.Security = append(doc.Security, openapi3.NewSecurityRequirement().Authenticate(name))
	}
	errSchema, err := s.errorSchema(s.Errors.Shape)
	if err != nil {
		return nil, fmt.Errorf("errors.shape: %w", err)
	}
	var errRef *openapi3.SchemaRef // nil: errors answer no body
	if errSchema != nil {
		doc.Components.Schemas["Error"] = errSchema.NewRef()
		errRef = openapi3.NewSchemaRef("#/components/schemas/Error", errSchema)
	}
	methods := map[string][]string{} // path -> the methods it takes
	for _, ep := range s.Endpoints {
		for _, path := range append([]string{ep.Path}, ep.Aliases...) {
			methods[path] = append(methods[path], ep.Method)
		}
	}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		op, err := s.operation(i, ep, errRef)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep.Name, err)
		}
		for n, path := range append([]string{ep.Path}, ep.Aliases...) {
			pop := *op // an alias is a copy with its own operationId
			if n > 0 {
				pop.OperationID = fmt.Sprintf("%s_alias%d", ep.Name, n)
			}
			pop.Responses = openapi3.NewResponses()
			for code, r := range op.Responses.Map() {
				pop.Responses.Set(code, r)
			}
			s.methodNotAllowed(&pop, methods[path], errRef)
			addOperation(doc, path, ep.Method, &pop)
		}
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	return doc, nil
}

// MarshalOpenAPI is the document as openapi.json holds it (keys sorted,
// so generation is reproducible byte for byte).
func MarshalOpenAPI(doc *openapi3.T) ([]byte, error) {
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// addOperation puts op at method and path (an alias is a second call).
func addOperation(doc *openapi3.T, path, method string, op *openapi3.Operation) {
	item := doc.Paths.Value(path)
	if item == nil {
		item = &openapi3.PathItem{}
		doc.Paths.Set(path, item)
	}
	item.SetOperation(method, op)
}

// methodNotAllowed documents the answer (with an Allow header) to a method
// the path does not take: the router's, in the API's error shape and status
// (errRef, nil for no body), unless the route documents that status itself.
func (s *Spec) methodNotAllowed(op *openapi3.Operation, methods []string, errRef *openapi3.SchemaRef) {
	status := http.StatusMethodNotAllowed
	if st, ok := s.Errors.Status[string(apierr.MethodNotAllowed)]; ok {
		status = st
	}
	if op.Responses.Status(status) != nil {
		return
	}
	ms := append([]string(nil), methods...)
	sort.Strings(ms)
	r := openapi3.NewResponse().WithDescription("Another method than " + strings.Join(ms, ", ") + " on this path.")
	r.Headers = openapi3.Headers{"Allow": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The methods the path takes.", Schema: schemaOf(openapi3.TypeString).NewRef(),
	}}}}
	if errRef != nil {
		r = r.WithJSONSchemaRef(errRef)
	}
	op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: r})
}

// securityScheme names and describes one declared way to authenticate.
func securityScheme(a rest.AuthScheme) (string, *openapi3.SecurityScheme) {
	switch a.Type {
	case rest.AuthBearer:
		return "bearer", &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: a.Description}
	case rest.AuthBasic:
		return "basic", &openapi3.SecurityScheme{Type: "http", Scheme: "basic", Description: a.Description}
	}
	return a.Name, &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: a.Name, Description: a.Description}
}

// operationSecurity overrides the API's requirement: `[]` on a public route.
func operationSecurity(ep *rest.Endpoint) *openapi3.SecurityRequirements {
	if ep.Public {
		return &openapi3.SecurityRequirements{}
	}
	return nil
}

// operation documents one endpoint; errRef is the API's error schema (nil:
// errors answer no body).
func (s *Spec) operation(i int, ep *rest.Endpoint, errRef *openapi3.SchemaRef) (*openapi3.Operation, error) {
	description := strings.TrimSpace(ep.Description + "\n\nRuns the GraphQL operation:\n\n```graphql\n" + ep.Operation + "```")
	for _, p := range ep.Params {
		if p.In == "client" {
			description += fmt.Sprintf("\n\n`%s` is the caller's IP address.", p.Name)
		}
	}
	op := &openapi3.Operation{
		OperationID: ep.Name,
		Summary:     ep.Summary,
		Description: description,
		Parameters:  parameters(ep),
		RequestBody: requestBody(ep),
		Security:    operationSecurity(ep),
	}
	success, err := s.successResponse(i, ep)
	if err != nil {
		return nil, err
	}
	status := ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, &openapi3.ResponseRef{Value: success}))
	if ep.ErrorShape != "" {
		sch, err := s.errorSchema(ep.ErrorShape)
		if err != nil {
			return nil, fmt.Errorf("errorShape: %w", err)
		}
		errRef = nil
		if sch != nil {
			errRef = sch.NewRef()
		}
	}
	for code, d := range s.errorResponses(ep) {
		r := openapi3.NewResponse().WithDescription(d)
		if errRef != nil {
			r = r.WithJSONSchemaRef(errRef)
		}
		op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Value: r})
	}
	return op, nil
}

// parameters are the path, query and header parameters (paging's
// included); the client's address is no parameter.
func parameters(ep *rest.Endpoint) openapi3.Parameters {
	var out openapi3.Parameters
	add := func(p *rest.Param) {
		out = append(out, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: p.Name, In: p.In, Required: p.Required, Description: p.Description, Schema: p.Schema().NewRef(),
		}})
	}
	for i := range ep.Params {
		if p := &ep.Params[i]; p.In == "path" || p.In == "query" || p.In == "header" {
			add(p)
		}
	}
	if ep.Page != nil {
		for _, p := range ep.Page.Params() {
			add(&p)
		}
	}
	return out
}

// requestBody is the object of the body (or form) parameters; its example
// is made of theirs.
func requestBody(ep *rest.Endpoint) *openapi3.RequestBodyRef {
	body := openapi3.NewObjectSchema()
	example := map[string]any{}
	mediaType := "application/json"
	for i := range ep.Params {
		p := &ep.Params[i]
		if p.In != "body" && p.In != "form" {
			continue
		}
		if p.In == "form" {
			mediaType = "multipart/form-data"
		}
		ps := p.Schema()
		ps.Description = p.Description
		body.Properties[p.Name] = ps.NewRef()
		if p.Required {
			body.Required = append(body.Required, p.Name)
		}
		if p.Example != nil {
			example[p.Name] = p.Example
		}
	}
	if len(body.Properties) == 0 {
		return nil
	}
	if len(example) > 0 && mediaType == "application/json" {
		body.Example = example
	}
	rb := openapi3.NewRequestBody().WithRequired(len(body.Required) > 0).
		WithContent(openapi3.Content{mediaType: openapi3.NewMediaType().WithSchema(body)})
	return &openapi3.RequestBodyRef{Value: rb}
}

// successResponse is the endpoint's shape filled with its response (no
// content when the shape is empty), and the declaration's example answer.
func (s *Spec) successResponse(i int, ep *rest.Endpoint) (*openapi3.Response, error) {
	status := ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	r := openapi3.NewResponse().WithDescription(http.StatusText(status))
	body, err := s.successSchema(i)
	if err != nil {
		return nil, err
	}
	if body == nil {
		if ep.Example != nil {
			return nil, fmt.Errorf("example: the route answers no body")
		}
		return r, nil
	}
	if ep.Example != nil {
		if err := body.VisitJSON(ep.Example); err != nil {
			return nil, fmt.Errorf("example: %w", err)
		}
		body.Example = ep.Example
	}
	return r.WithJSONSchema(body), nil
}

// errorResponses are the status codes the route may answer besides success.
func (s *Spec) errorResponses(ep *rest.Endpoint) map[int]string {
	errs := map[int]string{}
	for code, d := range s.Errors.Documented {
		if ep.Public && code == http.StatusUnauthorized {
			continue
		}
		errs[code] = d
	}
	for code, d := range ep.Errors {
		errs[code] = d
	}
	return errs
}
