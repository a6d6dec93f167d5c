package restgen

import (
	"errors"
	"fmt"
	"go/token"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/rest"
)

// checkConventions checks what the API declares once: shapes, errors,
// authentication, hook and trailing slash.
func (s *Spec) checkConventions() error {
	for name := range s.Shapes {
		if _, builtin := rest.LookupShape(nil, name); builtin || name == "" {
			return fmt.Errorf("shapes: %q is a built-in shape name", name)
		}
		if s.Shapes[name] == nil {
			return fmt.Errorf("shapes: %s is empty (use the built-in \"empty\" for no body)", name)
		}
	}
	if _, err := s.shape("shape", s.Shape, rest.SuccessVars); err != nil {
		return err
	}
	if s.Errors.Shape == "" {
		return errors.New("errors.shape: say how errors are answered (a shape name, or \"empty\")")
	}
	if _, err := s.shape("errors.shape", s.Errors.Shape, rest.ErrorVars); err != nil {
		return err
	}
	if err := checkStatusMap("errors.status", s.Errors.Status); err != nil {
		return err
	}
	for code := range s.Errors.Documented {
		if code < 400 || code > 599 {
			return fmt.Errorf("errors.documented: %d is not an error status", code)
		}
	}
	seen := map[string]bool{}
	for i, a := range s.Auth {
		switch a.Type {
		case rest.AuthHeader:
			if !validHeaderName(a.Name) {
				return fmt.Errorf("auth[%d]: a header scheme names its header (name), not %q", i, a.Name)
			}
		case rest.AuthBearer, rest.AuthBasic:
			if a.Name != "" {
				return fmt.Errorf("auth[%d]: a %s scheme takes no name", i, a.Type)
			}
		default:
			return fmt.Errorf("auth[%d]: type must be header, bearer or basic, not %q", i, a.Type)
		}
		key := a.Type + " " + strings.ToLower(a.Name)
		if seen[key] {
			return fmt.Errorf("auth[%d]: %s %s declared twice", i, a.Type, a.Name)
		}
		seen[key] = true
	}
	if s.Hook != "" && !token.IsIdentifier(s.Hook) {
		return fmt.Errorf("hook: %q is not a Go function name", s.Hook)
	}
	switch s.TrailingSlash {
	case "", rest.TrailingSlashOptional:
	default:
		return fmt.Errorf("trailingSlash: must be %q or absent, not %q", rest.TrailingSlashOptional, s.TrailingSlash)
	}
	return nil
}

// shape finds a named shape and checks that it uses only vars.
func (s *Spec) shape(where, name string, vars []string) (*rest.Shape, error) {
	sh, ok := rest.LookupShape(s.Shapes, name)
	if !ok {
		return nil, fmt.Errorf("%s: no shape %q (declare it under shapes, or use bare or empty)", where, name)
	}
	if err := checkShape(sh, vars); err != nil {
		return nil, fmt.Errorf("%s: shape %s: %w", where, name, err)
	}
	return sh, nil
}

func checkShape(sh *rest.Shape, vars []string) error {
	if sh == nil {
		return nil
	}
	switch sh.Kind {
	case rest.ShapeVar:
		if !slices.Contains(vars, sh.Var) {
			return fmt.Errorf("$%s is not one of $%s here", sh.Var, strings.Join(vars, ", $"))
		}
	case rest.ShapeObject:
		names := map[string]bool{}
		for _, f := range sh.Fields {
			if f.Name == rest.Spread {
				if f.Value.Kind != rest.ShapeVar || f.Value.Var != "response" || !slices.Contains(vars, "response") {
					return fmt.Errorf("%s spreads only $response, in a success shape", rest.Spread)
				}
				continue
			}
			if names[f.Name] {
				return fmt.Errorf("field %s twice", f.Name)
			}
			names[f.Name] = true
			if err := checkShape(f.Value, vars); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	}
	return nil
}

// spreadSiblings returns the names beside a spread of $response, and
// whether the shape spreads it.
func spreadSiblings(sh *rest.Shape) ([]string, bool) {
	if sh == nil || sh.Kind != rest.ShapeObject {
		return nil, false
	}
	var names []string
	spreads := false
	for _, f := range sh.Fields {
		if f.Name == rest.Spread {
			spreads = true
			continue
		}
		names = append(names, f.Name)
		if n, ok := spreadSiblings(f.Value); ok {
			return n, true
		}
	}
	return names, spreads
}

func checkStatusMap(where string, m map[string]int) error {
	for _, code := range slices.Sorted(maps.Keys(m)) {
		if _, ok := rest.DefaultStatus[apierr.Code(code)]; !ok {
			known := make([]string, 0, len(rest.DefaultStatus))
			for c := range rest.DefaultStatus {
				known = append(known, string(c))
			}
			sort.Strings(known)
			return fmt.Errorf("%s: unknown error code %s (one of %s)", where, code, strings.Join(known, ", "))
		}
		if st := m[code]; st < 400 || st > 599 || http.StatusText(st) == "" {
			return fmt.Errorf("%s: %s: %d is not an HTTP error status", where, code, st)
		}
	}
	return nil
}

// checkAnswers checks how an endpoint answers and where it is routed.
func (s *Spec) checkAnswers(ep *rest.Endpoint, doc *ast.QueryDocument) error {
	name := ep.Shape
	if name == "" {
		name = s.Shape
	}
	sh, err := s.shape("shape", name, rest.SuccessVars)
	if err != nil {
		return err
	}
	if name == "" {
		name = rest.ShapeBare
	}
	vars := sh.Vars()
	switch {
	case slices.Contains(vars, "message") && ep.Message == "":
		return fmt.Errorf("message: shape %s answers $message; declare it", name)
	case !slices.Contains(vars, "message") && ep.Message != "":
		return fmt.Errorf("message: shape %s does not answer $message", name)
	case !slices.Contains(vars, "response") && ep.Response != nil:
		return fmt.Errorf("response: shape %s does not answer $response", name)
	}
	if siblings, ok := spreadSiblings(sh); ok && ep.Response != nil {
		m := ep.Response
		if m.Object == nil || m.As != "" {
			return fmt.Errorf("response: shape %s spreads it, so it must be an object of keys", name)
		}
		for _, k := range siblings {
			if _, clash := m.Object[k]; clash {
				return fmt.Errorf("response: key %s is a field of shape %s already", k, name)
			}
		}
	}
	if ep.Response != nil {
		if _, err := resolveMapping(ep.Response, doc.Operations[0].SelectionSet, s.schema); err != nil {
			return fmt.Errorf("response: %w", err)
		}
	}
	errShape := ep.ErrorShape
	if errShape == "" {
		errShape = s.Errors.Shape
	}
	if _, err := s.shape("errorShape", errShape, rest.ErrorVars); err != nil {
		return err
	}
	if err := checkStatusMap("errorStatus", ep.ErrorStatus); err != nil {
		return err
	}
	if !ep.Public && len(s.Auth) == 0 {
		return errors.New("the API declares no auth: mark the endpoint public, or declare auth")
	}
	want := pathParams(ep.Path)
	for _, a := range ep.Aliases {
		if !strings.HasPrefix(a, s.Prefix+"/") {
			return fmt.Errorf("alias %s must start with the API prefix %s/", a, s.Prefix)
		}
		if got := pathParams(a); !slices.Equal(got, want) {
			return fmt.Errorf("alias %s must have the path parameters of %s (%v, not %v)", a, ep.Path, want, got)
		}
	}
	return nil
}

// pathParams lists a path's parameter names, sorted.
func pathParams(path string) []string {
	var out []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// validHeaderName reports whether name is an HTTP header name (a token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if c > 0x7e || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}
