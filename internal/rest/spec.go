// Package rest runs the legacy REST APIs. Each API is a list of endpoint
// declarations (rest/<api>/api.yaml, compiled by internal/restgen into
// rest/<api>/zz_generated.go): a route, its parameters and their validation,
// the GraphQL operation it runs, and how the result fills the API's envelope.
// Routes execute their operation in-process through the same gqlgen server as
// /graphql, so authentication, privacy, transactions and errors are the
// graph's own.
package rest

// Endpoint is one declared route.
type Endpoint struct {
	Name        string `yaml:"name"`
	Summary     string `yaml:"summary"`
	Description string `yaml:"description,omitempty"`
	Method      string `yaml:"method"`
	Path        string `yaml:"path"`
	// Operation is the GraphQL document the route runs (filled by restgen
	// from the file the declaration names).
	Operation     string `yaml:"operation"`
	OperationName string `yaml:"-"`
	// Public routes run without credentials (login, self-registration).
	Public bool `yaml:"public,omitempty"`
	// Status is the HTTP status of success (default 200).
	Status int `yaml:"status,omitempty"`
	// Consumes, when set, is the only content type the body may have
	// (415 otherwise). Endpoints with form parameters take multipart/form-data.
	Consumes string  `yaml:"consumes,omitempty"`
	Params   []Param `yaml:"params,omitempty"`
	// Set gives variables fixed values (dot paths, as Param.Var), before
	// the parameters fill theirs.
	Set  map[string]any `yaml:"set,omitempty"`
	Page *Paging        `yaml:"page,omitempty"`
	// Found is a dot path into the result that must hold something (not
	// null, false, 0 or empty); otherwise the route answers NOT_FOUND.
	Found string `yaml:"found,omitempty"`
	// Response maps envelope keys onto the operation's result.
	Response map[string]*Mapping `yaml:"response,omitempty"`
	// Order keeps the response keys in declaration order (filled by restgen).
	Order []string `yaml:"-"`
	// Errors documents extra status codes of this route for the OpenAPI document.
	Errors map[int]string `yaml:"errors,omitempty"`
	// Example is an answer of the route for the OpenAPI document (checked
	// against the response schema at generation).
	Example any `yaml:"example,omitempty" gen:"-"`
}

// Param is one request parameter.
type Param struct {
	Name     string `yaml:"name"`
	In       string `yaml:"in"`              // path, query, body or form (multipart/form-data)
	Type     string `yaml:"type"`            // string, integer, boolean, array, object; file (a form upload)
	Items    string `yaml:"items,omitempty"` // element type of an array
	Required bool   `yaml:"required,omitempty"`
	// Default is used when the parameter is absent (a JSON literal).
	Default   any  `yaml:"default,omitempty"`
	MinLength *int `yaml:"minLength,omitempty"`
	MaxLength *int `yaml:"maxLength,omitempty"`
	// MaxLengthOf takes MaxLength from a GraphQL field's @maxLength (the
	// ent field's MaxLen): "User.username". restgen fills MaxLength.
	MaxLengthOf string   `yaml:"maxLengthOf,omitempty" gen:"-"`
	Minimum     *float64 `yaml:"minimum,omitempty"`
	Maximum     *float64 `yaml:"maximum,omitempty"`
	MinItems    *int     `yaml:"minItems,omitempty"`
	MaxItems    *int     `yaml:"maxItems,omitempty"`
	Enum        []any    `yaml:"enum,omitempty"`
	Format      string   `yaml:"format,omitempty"` // uuid, ip
	// Pattern is a regular expression a string value must match.
	Pattern string `yaml:"pattern,omitempty"`
	// Example is a value for the OpenAPI document (the request example is
	// built from the parameters' examples).
	Example     any    `yaml:"example,omitempty" gen:"-"`
	Description string `yaml:"description,omitempty"`
	// Omit lists values that mean "no value" (OTE-Stack's "all").
	Omit []string `yaml:"omit,omitempty"`
	// Var is the dot path of the GraphQL variable the value goes to; a
	// segment ending in [] wraps what follows in a one-element list. Empty
	// for a parameter that is validated and otherwise unused (the
	// description says why).
	Var string `yaml:"var,omitempty"`
	// Also are further variable paths that receive the same value.
	Also []string `yaml:"also,omitempty"`
	// Map translates legacy values to GraphQL values (an int status code to
	// an enum, say); keys are the legacy values as text.
	Map map[string]any `yaml:"map,omitempty"`
}

// Paging turns page/pageSize query parameters into a connection window.
type Paging struct {
	// Connection is the dot path of the connection in the result.
	Connection string `yaml:"connection"`
	// Var is the variable that receives the number of rows to fetch ("first").
	Var string `yaml:"var,omitempty"`
	// Also are further variable paths that receive the same value.
	Also []string `yaml:"also,omitempty"`
	// DefaultSize is pageSize when absent; 0 means every row.
	DefaultSize int `yaml:"defaultSize,omitempty"`
	MaxSize     int `yaml:"maxSize,omitempty"`
}

// Mapping describes one value of the response. Exactly one form is used:
//
//	From  a dot path into the result, with an optional conversion (As) and value map (Map)
//	Each  a list at a dot path, every element mapped by Item
//	Const a literal
//	Object a nested object of further mappings
type Mapping struct {
	From   string              `yaml:"from,omitempty"`
	As     string              `yaml:"as,omitempty"` // int, unix, string, json (also of an Object), hundredths
	Map    map[string]any      `yaml:"map,omitempty"`
	Each   string              `yaml:"each,omitempty"`
	Item   *Mapping            `yaml:"item,omitempty"`
	Const  any                 `yaml:"const,omitempty"`
	Object map[string]*Mapping `yaml:"object,omitempty"`
	// Order keeps Object's keys in declaration order (filled by restgen).
	Order []string `yaml:"-"`
}
