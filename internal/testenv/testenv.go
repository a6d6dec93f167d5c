// Package testenv starts a real Meridian (real HTTP server, real database)
// for tests, on SQLite and, when MERIDIAN_TEST_POSTGRES holds a DSN, on
// PostgreSQL too.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/server"
)

// AdminPassword is the super-admin's password in every test server.
const AdminPassword = "admin-secret"

// Database is a database a test can run on.
type Database struct {
	Name string
	// DSN returns a fresh, empty database for one test.
	DSN func(t testing.TB) string
}

// Databases returns SQLite, and PostgreSQL when MERIDIAN_TEST_POSTGRES is set.
func Databases() []Database {
	dbs := []Database{{Name: "sqlite", DSN: func(testing.TB) string { return "sqlite://:memory:" }}}
	if pg := os.Getenv("MERIDIAN_TEST_POSTGRES"); pg != "" {
		dbs = append(dbs, Database{Name: "postgres", DSN: func(t testing.TB) string { return pgSchema(t, pg) }})
	}
	return dbs
}

// pgSchema creates a schema of its own for one test and returns a DSN that
// uses it; the schema is dropped when the test ends.
func pgSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgres DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each runs f once per database, as a subtest.
func Each(t *testing.T, f func(t *testing.T, db Database)) {
	for _, d := range Databases() {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

// Env is a running Meridian.
type Env struct {
	T      testing.TB
	URL    string
	Server *server.Server
	DB     *db.DB
	Client *ent.Client
	HTTP   *httptest.Server

	statements atomic.Int64
	mu         sync.Mutex
	sqlMu      sync.Mutex
	captured   *[]string
	admin      string
}

// Option adjusts the configuration of a test server.
type Option func(*config.Config)

// WithSimulator registers the simulated cluster "local" at bootstrap.
func WithSimulator(c *config.Config) { c.Simulator = true }

// WithoutWorkers starts a server that carries out no operations (a replica
// that only serves requests).
func WithoutWorkers(c *config.Config) { c.Workers = -1 }

// Start starts Meridian on a fresh database from d.
func Start(t testing.TB, d Database, opts ...Option) *Env {
	t.Helper()
	return StartDSN(t, d.DSN(t), opts...)
}

// StartDSN starts Meridian on dsn (migrating it).
func StartDSN(t testing.TB, dsn string, opts ...Option) *Env {
	t.Helper()
	e := &Env{T: t}
	database, err := db.Open(dsn, db.Options{Trace: func(ctx context.Context, q string) {
		if middleware.GetReqID(ctx) != "" { // a request's statement, not background work
			e.statements.Add(1)
			e.sqlMu.Lock()
			if e.captured != nil {
				*e.captured = append(*e.captured, q)
			}
			e.sqlMu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := database.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DB = dsn
	cfg.AdminPassword = AdminPassword
	cfg.Simulator = false // tests that want the "local" cluster say so (WithSimulator)
	cfg.SecretKey = randomKey()
	cfg.SimulatorTick = 20 * time.Millisecond
	cfg.OperationLease = 2 * time.Second
	cfg.RolloutDeadline = 20 * time.Second
	cfg.OperationBackoff = 50 * time.Millisecond
	cfg.ClusterHealth = 200 * time.Millisecond
	cfg.RegistrySync = 0 // tests sync on demand (syncRegistry)
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := server.New(ctx, cfg, database, log)
	if err != nil {
		t.Fatal(err)
	}
	e.Server, e.DB, e.Client = srv, database, database.Client
	srv.Start()
	e.HTTP = httptest.NewServer(srv)
	e.URL = e.HTTP.URL
	t.Cleanup(func() {
		e.HTTP.Close()
		srv.Close()
		database.Close()
	})
	return e
}

// Statements returns how many SQL statements requests have run so far.
func (e *Env) Statements() int64 { return e.statements.Load() }

// CaptureSQL runs f and returns the SQL statements requests ran meanwhile
// (as the driver's debug log shows them, with their arguments).
func (e *Env) CaptureSQL(f func()) []string {
	var got []string
	e.sqlMu.Lock()
	e.captured = &got
	e.sqlMu.Unlock()
	defer func() {
		e.sqlMu.Lock()
		e.captured = nil
		e.sqlMu.Unlock()
	}()
	f()
	e.sqlMu.Lock()
	defer e.sqlMu.Unlock()
	return append([]string(nil), got...)
}

// Sys returns a context that bypasses privacy, for test setup and checks.
func (e *Env) Sys() context.Context { return policy.System(context.Background()) }

// AdminToken signs in as the super-admin (once per Env).
func (e *Env) AdminToken() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.admin == "" {
		e.admin = e.Login("admin", AdminPassword)
	}
	return e.admin
}

// Login signs in through GraphQL and returns the token.
func (e *Env) Login(user, password string) string {
	e.T.Helper()
	r := e.GQL("", `mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }`,
		map[string]any{"u": user, "p": password})
	r.OK()
	return r.Str("login.token")
}

// NewUser creates an active user (with their own tenant) through GraphQL
// as the admin, and returns their token and user ID.
func (e *Env) NewUser(name, role string) (token, id string) {
	e.T.Helper()
	r := e.GQL(e.AdminToken(), `mutation($u: String!, $r: UserRole) { createSubUser(input: {username: $u, password: "password1", role: $r}) { id } }`,
		map[string]any{"u": name, "r": role})
	r.OK()
	return e.Login(name, "password1"), r.Str("createSubUser.id")
}

// Result is a decoded GraphQL answer.
type Result struct {
	t      testing.TB
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	}
}

// OK fails the test if the answer has errors.
func (r *Result) OK() *Result {
	r.t.Helper()
	if len(r.Errors) > 0 {
		r.t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	return r
}

// Code returns the first error's extensions.code, or "".
func (r *Result) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Field returns the first error's extensions.field, or "".
func (r *Result) Field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// Get follows a dot path (numbers index lists) into Data.
func (r *Result) Get(path string) any { return Path(r.Data, path) }

// Str returns the string at path.
func (r *Result) Str(path string) string {
	s, _ := r.Get(path).(string)
	return s
}

// Num returns the number at path.
func (r *Result) Num(path string) float64 {
	n, _ := r.Get(path).(float64)
	return n
}

// Path follows a dot path through decoded JSON.
func Path(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// GQL posts a GraphQL operation with a bearer token ("" for none).
func (e *Env) GQL(token, query string, vars map[string]any) *Result {
	e.T.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.result(req)
}

// result sends a GraphQL request and decodes the answer.
func (e *Env) result(req *http.Request) *Result {
	e.T.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	r := &Result{t: e.T, Status: res.StatusCode}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, r); err != nil {
		e.T.Fatalf("GraphQL answer is not JSON (%d): %s", res.StatusCode, raw)
	}
	return r
}

// Response is a decoded REST answer.
type Response struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

// Get follows a dot path into the body.
func (r *Response) Get(path string) any { return Path(r.Body, path) }

// Do sends a REST request; body is JSON-encoded unless it is a string or
// []byte (sent as is). headers are name/value pairs.
func (e *Env) Do(method, path string, body any, headers ...string) *Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header[headers[i]] = []string{headers[i+1]} // as sent: access_token keeps its underscore
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &Response{Status: res.StatusCode, Raw: raw, Header: res.Header}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&r.Body); err != nil {
			e.T.Fatalf("%s %s: answer is not a JSON object (%d): %s", method, path, res.StatusCode, raw)
		}
	}
	return r
}

// Auth returns the header pair for a raw token in Authorization.
func Auth(token string) []string { return []string{"Authorization", token} }

// Snapshot returns every row of every table, to prove a request changed nothing.
func (e *Env) Snapshot() string {
	e.T.Helper()
	ctx := e.Sys()
	var b strings.Builder
	dump := func(name string, v any, err error) {
		if err != nil {
			e.T.Fatalf("snapshot %s: %v", name, err)
		}
		raw, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s: %s\n", name, raw)
	}
	c := e.Client
	tenants, err := c.Tenant.Query().Order(ent.Asc("id")).All(ctx)
	dump("tenants", tenants, err)
	users, err := c.User.Query().Order(ent.Asc("id")).All(ctx)
	type userRow struct {
		*ent.User
		Hash string
	}
	var urows []userRow
	for _, u := range users {
		urows = append(urows, userRow{u, u.PasswordHash})
	}
	dump("users", urows, err)
	sessions, err := c.Session.Query().Order(ent.Asc("id")).All(ctx)
	dump("sessions", sessions, err)
	bs, err := c.Business.Query().Order(ent.Asc("id")).All(ctx)
	dump("businesses", bs, err)
	cs, err := c.Cluster.Query().Order(ent.Asc("id")).All(ctx)
	dump("clusters", cs, err)
	ns, err := c.Node.Query().Order(ent.Asc("id")).All(ctx)
	dump("nodes", ns, err)
	cls, err := c.ClusterLabel.Query().Order(ent.Asc("id")).All(ctx)
	dump("clusterLabels", cls, err)
	nls, err := c.NodeLabel.Query().Order(ent.Asc("id")).All(ctx)
	dump("nodeLabels", nls, err)
	cms, err := c.ContainerManager.Query().Order(ent.Asc("id")).All(ctx)
	dump("containerManagers", cms, err)
	apps, err := c.Application.Query().Order(ent.Asc("id")).All(ctx)
	dump("applications", apps, err)
	vers, err := c.ApplicationVersion.Query().Order(ent.Asc("id")).All(ctx)
	dump("versions", vers, err)
	deps, err := c.Deployment.Query().Order(ent.Asc("id")).All(ctx)
	dump("deployments", deps, err)
	revs, err := c.DeploymentRevision.Query().Order(ent.Asc("id")).All(ctx)
	dump("revisions", revs, err)
	ops, err := c.Operation.Query().Order(ent.Asc("id")).All(ctx)
	dump("operations", ops, err)
	wls, err := c.Workload.Query().Order(ent.Asc("id")).All(ctx)
	dump("workloads", wls, err)
	projects, err := c.RegistryProject.Query().Order(ent.Asc("id")).All(ctx)
	dump("registryProjects", projects, err)
	images, err := c.Image.Query().Order(ent.Asc("id")).All(ctx)
	dump("images", images, err)
	tags, err := c.ImageTag.Query().Order(ent.Asc("id")).All(ctx)
	dump("imageTags", tags, err)
	accounts, err := c.RegistryAccount.Query().Order(ent.Asc("id")).All(ctx)
	dump("registryAccounts", accounts, err)
	externals, err := c.ExternalRegistry.Query().Order(ent.Asc("id")).All(ctx)
	dump("externalRegistries", externals, err)
	return b.String()
}

// Keys returns a map's keys, sorted.
func Keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Eventually retries f until it returns true or d passes.
func Eventually(t testing.TB, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// randomKey is a fresh MERIDIAN_SECRET_KEY, so tests write no key files.
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// OpenDB opens a fresh, migrated database for a unit test of a workflow
// (no server), closed when the test ends.
func OpenDB(t testing.TB, d Database) *db.DB {
	t.Helper()
	database, err := db.Open(d.DSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close() })
	if err := database.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return database
}
