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

	"github.com/meridianplane/meridian/internal/rest"
)

// OpenAPI builds the API's OpenAPI 3 document and validates it with
// kin-openapi (examples included): an invalid document fails generation.
func (s *Spec) OpenAPI() (*openapi3.T, error) {
	errRef := openapi3.NewSchemaRef("#/components/schemas/Error", s.envelopeSchema())
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info:    &openapi3.Info{Title: s.Title, Version: s.Version, Description: s.Description},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:         openapi3.Schemas{"Error": errRef.Value.NewRef()},
			SecuritySchemes: s.securitySchemes(),
		},
		Security: s.security(),
	}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		op, err := s.operation(i, ep, errRef)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep.Name, err)
		}
		addOperation(doc, ep.Path, ep.Method, op)
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

// securitySchemes are the ways the API takes credentials.
func (s *Spec) securitySchemes() openapi3.SecuritySchemes {
	token := openapi3.NewSecurityScheme()
	token.Type, token.In, token.Name = "apiKey", "header", "Authorization"
	token.Description = "The JWT from login, raw or as `Bearer <token>`; `access_token` and `access-token` headers and HTTP Basic are accepted too."
	return openapi3.SecuritySchemes{"token": &openapi3.SecuritySchemeRef{Value: token}}
}

// security is the requirement of every operation that does not say otherwise.
func (s *Spec) security() openapi3.SecurityRequirements {
	return openapi3.SecurityRequirements{openapi3.NewSecurityRequirement().Authenticate("token")}
}

// operationSecurity overrides the API's requirement: `[]` on a public route.
func operationSecurity(ep *rest.Endpoint) *openapi3.SecurityRequirements {
	if ep.Public {
		return &openapi3.SecurityRequirements{}
	}
	return nil
}

// envelopeSchema is an object of the envelope's fields, all required: the
// API's error answer, and the start of every success answer.
func (s *Spec) envelopeSchema() *openapi3.Schema {
	o := openapi3.NewObjectSchema()
	for _, k := range sortedKeys(s.Envelope.Fields) {
		f := s.Envelope.Fields[k]
		o.Properties[k] = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{f.Type}, Description: f.Description}}
		o.Required = append(o.Required, k)
	}
	return o
}

// operation documents one endpoint; errRef is the API's error schema.
func (s *Spec) operation(i int, ep *rest.Endpoint, errRef *openapi3.SchemaRef) (*openapi3.Operation, error) {
	op := &openapi3.Operation{
		OperationID: ep.Name,
		Summary:     ep.Summary,
		Description: strings.TrimSpace(ep.Description + "\n\nRuns the GraphQL operation:\n\n```graphql\n" + ep.Operation + "```"),
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
	for code, d := range s.errorResponses(ep) {
		op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription(d).WithJSONSchemaRef(errRef)})
	}
	return op, nil
}

// parameters are the path and query parameters (paging's included).
func parameters(ep *rest.Endpoint) openapi3.Parameters {
	var out openapi3.Parameters
	add := func(p *rest.Param) {
		out = append(out, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: p.Name, In: p.In, Required: p.Required, Description: p.Description, Schema: p.Schema().NewRef(),
		}})
	}
	for i := range ep.Params {
		if p := &ep.Params[i]; p.In == "path" || p.In == "query" {
			add(p)
		}
	}
	if ep.Page != nil {
		for _, p := range pageParams(ep.Page) {
			add(&p)
		}
	}
	return out
}

// pageParams document the page and pageSize query parameters.
func pageParams(pg *rest.Paging) []rest.Param {
	size := pg.MaxSize
	if size == 0 {
		size = rest.DefaultMaxPageSize
	}
	one, zero, maxSize := 1.0, 0.0, float64(size)
	return []rest.Param{
		{Name: "page", In: "query", Type: "integer", Minimum: &one, Default: 1, Description: "The page number, from 1."},
		{Name: "pageSize", In: "query", Type: "integer", Minimum: &zero, Maximum: &maxSize, Default: pg.DefaultSize, Description: "Rows per page; 0 for every row."},
	}
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

// successResponse is the envelope with the declared keys, and the
// declaration's example answer.
func (s *Spec) successResponse(i int, ep *rest.Endpoint) (*openapi3.Response, error) {
	body := s.envelopeSchema()
	set := s.docs[i].Operations[0].SelectionSet
	for _, k := range ep.Order {
		sch, err := resolveMapping(ep.Response[k], set, s.schema)
		if err != nil {
			return nil, err
		}
		body.Properties[k] = sch.NewRef()
		body.Required = append(body.Required, k)
	}
	sort.Strings(body.Required)
	if ep.Example != nil {
		if err := body.VisitJSON(ep.Example); err != nil {
			return nil, fmt.Errorf("example: %w", err)
		}
		body.Example = ep.Example
	}
	status := ep.Status
	if status == 0 {
		status = http.StatusOK
	}
	return openapi3.NewResponse().WithDescription(http.StatusText(status)).WithJSONSchema(body), nil
}

// errorResponses are the status codes the route may answer besides success.
func (s *Spec) errorResponses(ep *rest.Endpoint) map[int]string {
	errs := map[int]string{}
	for code, d := range s.Envelope.Errors {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
