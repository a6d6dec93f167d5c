// Package rest runs the legacy REST APIs. Each API is a list of endpoint
// declarations and the API's conventions (rest/<api>/api.yaml, compiled by
// internal/restgen into rest/<api>/zz_generated.go): a route, its parameters
// and their validation, the GraphQL operation it runs, and the shape its
// answer takes; per API, how callers authenticate, how errors are answered
// and a hook that runs before every operation. Routes execute their operation
// in-process through the same gqlgen server as /graphql, so authentication,
// privacy, transactions and errors are the graph's own.
package rest

// Conventions are what one API declares once for all its endpoints (the top
// of api.yaml besides its identity): how answers are shaped, how errors are
// answered, how callers authenticate, the hook, and routing options.
type Conventions struct {
	// Shape names the success shape of endpoints that name none: a key of
	// Shapes, or the built-in "bare" (the response itself: an object, a
	// list or a scalar) or "empty" (no body). Empty means "bare".
	Shape string `yaml:"shape,omitempty"`
	// Shapes are the API's named answer templates (see Shape).
	Shapes map[string]*Shape `yaml:"shapes,omitempty"`
	// Errors says how errors are answered.
	Errors ErrorConvention `yaml:"errors,omitempty"`
	// Auth lists the ways callers may present credentials, in the order
	// they are looked for; the first one a request carries is the one
	// checked. Endpoints not marked public require one. An OpenAPI
	// document describes each as a security scheme.
	Auth []AuthScheme `yaml:"auth,omitempty"`
	// Hook names a Go function of the API's package, of type Hook, that
	// runs before every endpoint's operation (after authentication and
	// parameter validation); the generated code wires it.
	Hook string `yaml:"hook,omitempty"`
	// TrailingSlash "optional" makes every path (and alias) also answer
	// with a trailing slash added, or removed when it has one. Empty: only
	// the paths as declared.
	TrailingSlash string `yaml:"trailingSlash,omitempty"`
}

// TrailingSlashOptional is the Conventions.TrailingSlash value that serves
// every path with and without a trailing slash.
const TrailingSlashOptional = "optional"

// ErrorConvention is how an API answers errors.
type ErrorConvention struct {
	// Shape names the error body: a key of Conventions.Shapes, or "empty".
	// An error shape may use $status, $message, $code, $field and $url.
	Shape string `yaml:"shape,omitempty"`
	// Status maps error codes (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
	// BAD_USER_INPUT, CONFLICT, PRECONDITION_FAILED, UNSUPPORTED_MEDIA_TYPE,
	// METHOD_NOT_ALLOWED, INTERNAL) onto HTTP statuses; a code not listed
	// answers its DefaultStatus.
	Status map[string]int `yaml:"status,omitempty"`
	// Documented describes the statuses every protected route may answer
	// (for the OpenAPI document; 401 is left out on public routes).
	Documented map[int]string `yaml:"documented,omitempty"`
}

// AuthScheme is one way callers of an API present credentials. Every
// scheme resolves through internal/auth to the same users.
type AuthScheme struct {
	// Type is AuthHeader (a token in the header Name, raw or as
	// "Bearer <token>"; OpenAPI: an apiKey in that header), AuthBearer
	// ("Authorization: Bearer <token>" only; OpenAPI: http bearer) or
	// AuthBasic (HTTP Basic; OpenAPI: http basic).
	Type string `yaml:"type"`
	// Name is the header of an AuthHeader scheme: Authorization,
	// access_token, access-token...
	Name string `yaml:"name,omitempty"`
	// Description is shown in the OpenAPI document.
	Description string `yaml:"description,omitempty"`
}

// The AuthScheme types.
const (
	AuthHeader = "header"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
)

// Built-in shape names.
const (
	// ShapeBare answers the response itself: an object, a list or a scalar.
	ShapeBare = "bare"
	// ShapeEmpty answers the status with no body.
	ShapeEmpty = "empty"
)

// Shape is an answer template: JSON whose $variables are filled per answer.
// In api.yaml a shape is written as the JSON it produces:
//
//	code: $status        # a variable
//	retCode: 0           # a literal (a string starting with $ is written $$...)
//	params: null
//	...: $response       # the response object's keys, spread here
//
// Success shapes may use $response (the endpoint's response), $status (the
// HTTP status), $message (the endpoint's Message) and $url (the request's
// path); error shapes $status, $message (what went wrong, naming the
// parameter), $code (the error code, as NOT_FOUND), $field (the parameter
// concerned, or null) and $url.
type Shape struct {
	// Kind is ShapeVar, ShapeConst or ShapeObject.
	Kind string
	// Var is the variable (without $) of a ShapeVar.
	Var string
	// Const is the literal of a ShapeConst (nil is null).
	Const any
	// Fields are the members of a ShapeObject, in order; a field named
	// "..." spreads the keys of its value (an object) in its place.
	Fields []ShapeField
}

// The Shape kinds.
const (
	ShapeVar    = "var"
	ShapeConst  = "const"
	ShapeObject = "object"
)

// Spread is the field name that spreads an object's keys into a shape.
const Spread = "..."

// ShapeField is one member of an object shape.
type ShapeField struct {
	Name  string
	Value *Shape
}

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
	// Aliases are further paths (under the prefix, with the same path
	// parameters) the endpoint answers on, as if it were declared again.
	Aliases []string `yaml:"aliases,omitempty"`
	// Public routes run without credentials (login, self-registration);
	// credentials sent anyway are still read. OpenAPI: `security: []`.
	Public bool `yaml:"public,omitempty"`
	// Status is the HTTP status of success (default 200).
	Status int `yaml:"status,omitempty"`
	// Shape names the success shape (a key of the API's shapes, "bare" or
	// "empty"); empty: the API's default.
	Shape string `yaml:"shape,omitempty"`
	// Message fills $message in the success shape (and is required when
	// the shape uses it).
	Message string `yaml:"message,omitempty"`
	// ErrorShape overrides the API's error shape for this endpoint.
	ErrorShape string `yaml:"errorShape,omitempty"`
	// ErrorStatus overrides entries of the API's error status mapping for
	// this endpoint (code -> HTTP status).
	ErrorStatus map[string]int `yaml:"errorStatus,omitempty"`
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
	// Response builds the endpoint's response ($response in its shape)
	// from the operation's result: usually an object of keys (which a
	// shape may spread), or a list or scalar for a bare answer. Nil is
	// null (nothing, when spread).
	Response *Mapping `yaml:"response,omitempty"`
	// Errors documents extra status codes of this route for the OpenAPI document.
	Errors map[int]string `yaml:"errors,omitempty"`
	// Example is an answer of the route for the OpenAPI document (checked
	// against the response schema at generation).
	Example any `yaml:"example,omitempty" gen:"-"`
}

// Param is one request parameter.
type Param struct {
	Name string `yaml:"name"`
	// In is where the value comes from: path, query, header (a request
	// header named Name), body (a JSON body's key), form
	// (multipart/form-data) or client (the caller's IP address: the
	// connection's peer, or what a trusted proxy forwarded; see
	// ClientAddress).
	In       string `yaml:"in"`
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
