package rest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
)

// API is one legacy API: its declarations, its conventions and its hook.
// The generated API() of rest/<api> builds it.
type API struct {
	Name string
	// Prefix is the path every endpoint starts with ("/v1"); unknown paths
	// and methods under it are answered in the API's error shape.
	Prefix    string
	Endpoints []Endpoint
	Conventions
	// Hook is the function Conventions.Hook names (nil for none).
	Hook Hook
}

// Hook runs before an endpoint's operation, after authentication and
// parameter validation. An error refuses the request; it is answered in the
// API's error shape (an *apierr.Error chooses the code, anything else is a
// 500).
type Hook func(ctx context.Context, c *Call) error

// Call is the request a Hook sees.
type Call struct {
	Request  *http.Request
	Endpoint *Endpoint
	// Params holds the value of every parameter the request sent (or
	// defaulted), validated and as the operation receives it, by
	// parameter name.
	Params map[string]any
	// Vars are the operation's variables; a hook may change them.
	Vars map[string]any
}

// Route is one method and path an endpoint answers on.
type Route struct {
	Method, Path string
	Endpoint     *Endpoint
}

var paramRE = regexp.MustCompile(`\{[^/{}]*\}`)

// routeKey is what makes two routes take the same requests: the method and
// the path with parameter names dropped (and, when the trailing slash is
// optional, without it).
func routeKey(method, path, trailingSlash string) string {
	p := paramRE.ReplaceAllString(path, "{}")
	if trailingSlash == TrailingSlashOptional && len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return method + " " + p
}

// Routes lists every method and path the endpoints answer on: each path and
// alias, and with trailingSlash "optional" each one's other spelling too. It
// fails when two of them would take the same requests (the same method and
// path, up to parameter names and, when optional, the trailing slash).
func Routes(eps []Endpoint, trailingSlash string) ([]Route, error) {
	var out []Route
	seen := map[string]string{}
	for i := range eps {
		ep := &eps[i]
		for _, p := range append([]string{ep.Path}, ep.Aliases...) {
			key := routeKey(ep.Method, p, trailingSlash)
			if other, ok := seen[key]; ok {
				return nil, fmt.Errorf("%s %s (endpoint %s) takes the same requests as %s", ep.Method, p, ep.Name, other)
			}
			seen[key] = fmt.Sprintf("%s %s (endpoint %s)", ep.Method, p, ep.Name)
			out = append(out, Route{Method: ep.Method, Path: p, Endpoint: ep})
			if trailingSlash == TrailingSlashOptional && len(p) > 1 {
				other := p + "/"
				if strings.HasSuffix(p, "/") {
					other = strings.TrimSuffix(p, "/")
				}
				out = append(out, Route{Method: ep.Method, Path: other, Endpoint: ep})
			}
		}
	}
	return out, nil
}

// Mount adds the API's routes to r: authenticated by authn with the API's
// schemes, running their operations through gql (the /graphql server). It
// panics on declarations restgen would refuse.
func Mount(r chi.Router, api API, gql http.Handler, authn *auth.Service) {
	routes, err := Routes(api.Endpoints, api.TrailingSlash)
	if err != nil {
		panic(fmt.Sprintf("rest: API %s: %v", api.Name, err))
	}
	schemes, err := api.schemes()
	if err != nil {
		panic(fmt.Sprintf("rest: API %s: %v", api.Name, err))
	}
	fallback := api.answers(&Endpoint{Name: "(none)"})
	r.Route(api.Prefix, func(sub chi.Router) {
		sub.Use(authn.Accepting(schemes...))
		built := map[*Endpoint]*route{}
		for _, rt := range routes {
			h := built[rt.Endpoint]
			if h == nil {
				h = &route{ep: rt.Endpoint, out: api.answers(rt.Endpoint), gql: gql, hook: api.Hook}
				built[rt.Endpoint] = h
			}
			sub.Method(rt.Method, api.relative(rt.Path), h)
		}
		sub.NotFound(func(w http.ResponseWriter, r *http.Request) {
			fallback.fail(w, r, apierr.New(apierr.NotFound, "no endpoint at %s", r.URL.Path))
		})
		sub.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			allow := allowed(routes, r.URL.Path)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			fallback.fail(w, r, apierr.New(apierr.MethodNotAllowed, "%s %s: this path takes %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		})
	})
}

// relative is a path inside the API's sub-router.
func (api *API) relative(path string) string {
	p := strings.TrimPrefix(path, api.Prefix)
	if p == "" {
		return "/"
	}
	return p
}

// allowed lists the methods of the routes whose path matches the request
// path (a parameter matches any one non-empty segment).
func allowed(routes []Route, path string) []string {
	var out []string
	for _, rt := range routes {
		if !slices.Contains(out, rt.Method) && matches(rt.Path, path) {
			out = append(out, rt.Method)
		}
	}
	slices.Sort(out)
	return out
}

func matches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return true
}

// schemes turns the declared authentication into internal/auth's schemes.
func (c *Conventions) schemes() ([]auth.Scheme, error) {
	out := make([]auth.Scheme, 0, len(c.Auth))
	for _, a := range c.Auth {
		switch a.Type {
		case AuthHeader:
			if a.Name == "" {
				return nil, fmt.Errorf("auth: a %s scheme names its header", a.Type)
			}
			out = append(out, auth.Scheme{Kind: auth.SchemeHeader, Header: a.Name})
		case AuthBearer:
			out = append(out, auth.Scheme{Kind: auth.SchemeBearer})
		case AuthBasic:
			out = append(out, auth.Scheme{Kind: auth.SchemeBasic})
		default:
			return nil, fmt.Errorf("auth: unknown type %q (header, bearer or basic)", a.Type)
		}
	}
	return out, nil
}

// answers resolves how ep answers: its success and error shapes and its
// error statuses.
func (api *API) answers(ep *Endpoint) *answers {
	a := &answers{ep: ep, status: ep.Status, message: ep.Message, errStatus: map[apierr.Code]int{}}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	name := ep.Shape
	if name == "" {
		name = api.Shape
	}
	var ok bool
	if a.success, ok = LookupShape(api.Shapes, name); !ok {
		panic(fmt.Sprintf("rest: API %s, endpoint %s: unknown shape %q", api.Name, ep.Name, name))
	}
	name = ep.ErrorShape
	if name == "" {
		name = api.Errors.Shape
	}
	if a.failure, ok = LookupShape(api.Shapes, name); !ok {
		panic(fmt.Sprintf("rest: API %s, endpoint %s: unknown error shape %q", api.Name, ep.Name, name))
	}
	for c, s := range DefaultStatus {
		a.errStatus[c] = s
	}
	for _, m := range []map[string]int{api.Errors.Status, ep.ErrorStatus} {
		for c, s := range m {
			a.errStatus[apierr.Code(c)] = s
		}
	}
	for _, s := range api.Auth {
		if s.Type == AuthBasic {
			a.basicRealm = api.Name
		}
	}
	return a
}
