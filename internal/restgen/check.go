package restgen

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridianplane/meridian/internal/rest"
)

var pathParamRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// check validates one endpoint and fills its operation text and name.
func check(dir, prefix string, ep *rest.Endpoint, schema *ast.Schema) (*ast.QueryDocument, error) {
	switch ep.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, fmt.Errorf("unsupported method %q", ep.Method)
	}
	if !strings.HasPrefix(ep.Path, prefix+"/") {
		return nil, fmt.Errorf("path must start with the API prefix %s/", prefix)
	}
	file := ep.Operation
	if file == "" {
		return nil, errors.New("no operation")
	}
	text, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	if text, err = withFragments(filepath.Join(dir, filepath.Dir(file), "fragments"), text); err != nil {
		return nil, err
	}
	doc, gerrs := gqlparser.LoadQuery(schema, string(text))
	if len(gerrs) > 0 {
		return nil, fmt.Errorf("operation %s does not validate: %w", file, gerrs)
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("operation %s must hold exactly one operation", file)
	}
	op := doc.Operations[0]
	if op.Name == "" {
		return nil, fmt.Errorf("operation %s must be named", file)
	}
	ep.Operation = strings.TrimSpace(string(text)) + "\n"
	ep.OperationName = op.Name

	// Parameters.
	pathParams := map[string]bool{}
	for _, m := range pathParamRE.FindAllStringSubmatch(ep.Path, -1) {
		pathParams[m[1]] = true
	}
	fed := map[string]bool{}
	for path := range ep.Set {
		if _, err := varType(path, op, schema); err != nil {
			return nil, fmt.Errorf("set: %w", err)
		}
		fed[strings.Split(strings.ReplaceAll(path, "[]", ""), ".")[0]] = true
	}
	for i := range ep.Params {
		p := &ep.Params[i]
		if err := checkParam(p, op, schema); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		if p.In == "path" {
			if !pathParams[p.Name] {
				return nil, fmt.Errorf("parameter %s: not in path %s", p.Name, ep.Path)
			}
			if p.Var == "" {
				return nil, fmt.Errorf("path parameter %s feeds no variable", p.Name)
			}
			delete(pathParams, p.Name)
		}
		if p.Var != "" && p.Required {
			fed[strings.Split(strings.ReplaceAll(p.Var, "[]", ""), ".")[0]] = true
		}
	}
	for name := range pathParams {
		return nil, fmt.Errorf("path parameter {%s} is not declared", name)
	}
	if ep.Page != nil {
		if err := checkPaging(ep.Page, op, schema); err != nil {
			return nil, fmt.Errorf("page: %w", err)
		}
	}
	// Required variables must come from a required parameter (or a nested
	// path, whose object is built whenever any of its fields is sent).
	for _, vd := range op.VariableDefinitions {
		if vd.Type.NonNull && vd.DefaultValue == nil && !fed[vd.Variable] && !anyFeeds(ep.Params, vd.Variable) {
			return nil, fmt.Errorf("required variable $%s is fed by no required parameter", vd.Variable)
		}
	}
	if ep.Found != "" {
		if _, err := fieldAt(op.SelectionSet, ep.Found); err != nil {
			return nil, fmt.Errorf("found: %w", err)
		}
	}
	return doc, nil
}

// withFragments appends the shared fragments an operation spreads: the
// fragment F lives in <ops>/fragments/F.graphql.
func withFragments(dir string, text []byte) ([]byte, error) {
	for _, m := range spreadRE.FindAllSubmatch(text, -1) {
		name := string(m[1])
		if name == "on" { // an inline fragment
			continue
		}
		if regexp.MustCompile(`fragment\s+` + name + `\b`).Match(text) {
			continue // defined here, or appended already
		}
		frag, err := os.ReadFile(filepath.Join(dir, name+".graphql"))
		if err != nil {
			return nil, fmt.Errorf("fragment %s: %w", name, err)
		}
		text = append(append(text, '\n'), frag...)
	}
	return text, nil
}

var spreadRE = regexp.MustCompile(`\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)`)

func anyFeeds(ps []rest.Param, variable string) bool {
	for _, p := range ps {
		if p.Required && strings.HasPrefix(p.Var, variable+".") {
			return true
		}
	}
	return false
}

var paramTypes = []string{"string", "integer", "boolean", "array", "object", "file"}

func checkParam(p *rest.Param, op *ast.OperationDefinition, schema *ast.Schema) error {
	if !slices.Contains([]string{"path", "query", "header", "body", "form", "client"}, p.In) {
		return fmt.Errorf("in must be path, query, header, body, form or client, not %q", p.In)
	}
	if p.Type == "file" && p.In != "form" {
		return errors.New("a file comes in a form")
	}
	if p.In == "header" && (p.Type == "object" || !validHeaderName(p.Name)) {
		return errors.New("a header parameter is a string, integer, boolean or array, named as a header")
	}
	if p.In == "client" && (p.Type != "string" || p.Default != nil) {
		return errors.New("the client's address is a string (and always there: no default)")
	}
	if !slices.Contains(paramTypes, p.Type) {
		return fmt.Errorf("unknown type %q", p.Type)
	}
	if p.Type == "array" && !slices.Contains(paramTypes, p.Items) {
		return fmt.Errorf("array needs items: one of %v", paramTypes)
	}
	if p.In == "path" && !p.Required {
		return errors.New("a path parameter is required")
	}
	switch p.Format {
	case "", "uuid", "ip":
	default:
		return fmt.Errorf("unknown format %q (uuid or ip)", p.Format)
	}
	elemType := p.Type
	if p.Type == "array" {
		elemType = p.Items
	}
	if p.MaxLengthOf != "" {
		if p.MaxLength != nil {
			return errors.New("maxLength and maxLengthOf: state the limit once")
		}
		n, err := fieldMaxLength(p.MaxLengthOf, schema)
		if err != nil {
			return fmt.Errorf("maxLengthOf: %w", err)
		}
		p.MaxLength = &n
	}
	if p.Format != "" && elemType != "string" {
		return fmt.Errorf("format %s needs a string", p.Format)
	}
	if (p.MinLength != nil || p.MaxLength != nil) && elemType != "string" {
		return errors.New("minLength/maxLength need a string")
	}
	if (p.Minimum != nil || p.Maximum != nil) && elemType != "integer" {
		return errors.New("minimum/maximum need an integer")
	}
	if (p.MinItems != nil || p.MaxItems != nil) && p.Type != "array" {
		return errors.New("minItems/maxItems need an array")
	}
	for _, v := range p.Enum {
		if !literalFits(v, elemType) {
			return fmt.Errorf("enum value %v is not a %s", v, elemType)
		}
	}
	for k := range p.Map {
		if !literalFits(k, elemType) {
			return fmt.Errorf("map key %q is not a %s", k, elemType)
		}
	}
	if p.Default != nil && !literalFits(p.Default, p.Type) {
		return fmt.Errorf("default %v is not a %s", p.Default, p.Type)
	}
	if len(p.Omit) > 0 && elemType != "string" {
		return errors.New("omit needs a string")
	}
	if p.Var == "" {
		if p.Description == "" {
			return errors.New("a parameter that feeds no variable must say why in its description")
		}
		return nil
	}
	for _, also := range p.Also {
		if _, err := varType(also, op, schema); err != nil {
			return fmt.Errorf("also: %w", err)
		}
	}
	t, err := varType(p.Var, op, schema)
	if err != nil {
		return err
	}
	// The value's GraphQL type must accept what the parameter sends.
	named := t
	if p.Type == "array" {
		if t.Elem == nil {
			return fmt.Errorf("variable %s is not a list", p.Var)
		}
		named = t.Elem
	}
	def := schema.Types[named.Name()]
	if def == nil {
		return fmt.Errorf("variable %s has unknown type %s", p.Var, named.Name())
	}
	if len(p.Map) > 0 {
		for k, v := range p.Map {
			if def.Kind == ast.Enum && def.EnumValues.ForName(fmt.Sprint(v)) == nil {
				return fmt.Errorf("map %s: %v is not a value of %s", k, v, def.Name)
			}
		}
		return nil
	}
	elem := p.Type
	if p.Type == "array" {
		elem = p.Items
	}
	ok := false
	switch elem {
	case "string":
		ok = def.Name == "String" || def.Name == "ID" || def.Kind == ast.Enum || def.Name == "Time"
	case "integer":
		ok = def.Name == "Int" || def.Name == "ID" || def.Name == "Float"
	case "boolean":
		ok = def.Name == "Boolean"
	case "object":
		ok = def.Kind == ast.InputObject || def.Kind == ast.Scalar
	case "file":
		ok = def.Name == "Upload"
	}
	if !ok {
		return fmt.Errorf("a %s cannot feed %s (%s)", elem, p.Var, t.String())
	}
	return nil
}

// fieldMaxLength reads the @maxLength directive of a GraphQL field
// ("Type.field"), which entc puts on every field whose ent field has MaxLen.
func fieldMaxLength(path string, schema *ast.Schema) (int, error) {
	typ, field, ok := strings.Cut(path, ".")
	def := schema.Types[typ]
	if !ok || def == nil {
		return 0, fmt.Errorf("%s: not a Type.field of the GraphQL schema", path)
	}
	fd := def.Fields.ForName(field)
	if fd == nil {
		return 0, fmt.Errorf("%s has no field %s", typ, field)
	}
	d := fd.Directives.ForName("maxLength")
	if d == nil || d.Arguments.ForName("n") == nil {
		return 0, fmt.Errorf("%s has no @maxLength (its ent field sets no MaxLen)", path)
	}
	return strconv.Atoi(d.Arguments.ForName("n").Value.Raw)
}

// varType resolves a dot path through a variable's input object type.
func varType(path string, op *ast.OperationDefinition, schema *ast.Schema) (*ast.Type, error) {
	parts := strings.Split(strings.ReplaceAll(path, "[]", ""), ".")
	vd := op.VariableDefinitions.ForName(parts[0])
	if vd == nil {
		return nil, fmt.Errorf("operation has no variable $%s", parts[0])
	}
	t := vd.Type
	for _, f := range parts[1:] {
		if t.Elem != nil {
			t = t.Elem
		}
		def := schema.Types[t.Name()]
		if def == nil || def.Kind != ast.InputObject {
			return nil, fmt.Errorf("%s: %s is not an input object", path, t.Name())
		}
		fd := def.Fields.ForName(f)
		if fd == nil {
			return nil, fmt.Errorf("%s: %s has no field %s", path, def.Name, f)
		}
		t = fd.Type
	}
	return t, nil
}

func checkPaging(pg *rest.Paging, op *ast.OperationDefinition, schema *ast.Schema) error {
	v := pg.Var
	if v == "" {
		v = "first"
	}
	t, err := varType(v, op, schema)
	if err != nil {
		return err
	}
	if t.Name() != "Int" {
		return fmt.Errorf("$%s must be an Int", v)
	}
	f, err := fieldAt(op.SelectionSet, pg.Connection)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return fmt.Errorf("%s is not a connection", pg.Connection)
	}
	if _, err := fieldAt(f.SelectionSet, "edges"); err != nil {
		return fmt.Errorf("%s must select edges", pg.Connection)
	}
	return nil
}

// fieldAt finds the field a dot path (by response name) selects.
func fieldAt(set ast.SelectionSet, path string) (*ast.Field, error) {
	var f *ast.Field
	for _, name := range strings.Split(path, ".") {
		if _, err := strconv.Atoi(name); err == nil && f != nil && f.Definition.Type.Elem != nil {
			continue // an index into the list field before it
		}
		f = findField(set, name)
		if f == nil {
			return nil, fmt.Errorf("%s: %q is not selected", path, name)
		}
		set = f.SelectionSet
	}
	return f, nil
}

func findField(set ast.SelectionSet, name string) *ast.Field {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Alias == name || (s.Alias == "" && s.Name == name) {
				return s
			}
		case *ast.InlineFragment:
			if f := findField(s.SelectionSet, name); f != nil {
				return f
			}
		case *ast.FragmentSpread:
			if f := findField(s.Definition.SelectionSet, name); f != nil {
				return f
			}
		}
	}
	return nil
}

// literalFits reports whether a declared literal (or a map key, as text) is
// a value of the parameter type.
func literalFits(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		switch t := v.(type) {
		case int, int64:
			return true
		case string:
			_, err := strconv.ParseInt(t, 10, 64)
			return err == nil
		}
	case "boolean":
		_, ok := v.(bool)
		return ok
	}
	return false
}
