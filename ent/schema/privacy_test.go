package schema_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/schema/field"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/migrate"
	"github.com/meridianplane/meridian/ent/privacy"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/testenv"
	"github.com/meridianplane/meridian/internal/viewer"
)

// TestPrivacyDeniesByDefault walks every schema in this directory (loaded
// with entc, as `make generate` does, so a new file is walked whether or not
// it was generated yet) and fails on one that has no privacy policy, or
// whose rows of one tenant another caller can read or write: a stranger (a
// normal user of another tenant), a guest (of the owning tenant, and of
// another), an anonymous caller, and a member of the owning tenant with a
// role no rule knows (nothing grants them anything, so only a policy that
// ends in a deny refuses them).
//
// Every table gets one row in the owning tenant, inserted with SQL (no
// hooks, no validators), its required foreign keys pointing at the other
// seeded rows. A schema whose rows are meant to be read across tenants
// (public rows) is seeded private: its policy must still hide them.
func TestPrivacyDeniesByDefault(t *testing.T) {
	g, err := entc.LoadGraph(".", &gen.Config{})
	if err != nil {
		t.Fatalf("loading ent/schema: %v", err)
	}
	for _, n := range g.Nodes {
		if n.NumPolicy() == 0 {
			t.Errorf("%s has no privacy policy: give it a Policy() (policy.TenantOwned, policy.PublicRead, policy.TenantRow or policy.ServerOnly) ending in a deny", n.Name)
		}
	}
	testenv.Each(t, func(t *testing.T, tdb testenv.Database) {
		d, err := db.Open(tdb.DSN(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if err := d.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		w := seed(t, d)
		for _, n := range g.Nodes {
			t.Run(n.Name, func(t *testing.T) { w.check(t, n) })
		}
	})
}

// world is a database with one row per table in tenant A.
type world struct {
	d      *db.DB
	client *ent.Client
	// rows: the seeded row of each table, all in tenant A (the tenants
	// table's row is A itself).
	rows    map[string]int
	tenantA int
	tenantB int
	callers []caller
	owned   map[string]bool // tables with a tenant_id column
}

// caller is someone who must not read or write tenant A's rows.
type caller struct {
	name string
	ctx  context.Context
	// readsA: a guest of A reads A's rows; they must still not write.
	readsA bool
	// denied: every read must be refused outright, not just come back empty.
	denied bool
}

func seed(t *testing.T, d *db.DB) *world {
	t.Helper()
	w := &world{d: d, client: d.Client, rows: map[string]int{}, owned: map[string]bool{}}
	ctx := context.Background()
	b, _ := w.values(t, migrate.TenantsTable)
	b["name"] = "tenant-b"
	w.tenantB = insert(t, d, migrate.TenantsTable, b)
	pending := slices.Clone(migrate.Tables)
	for len(pending) > 0 {
		var next []*entschema.Table
		for _, tb := range pending {
			vals, ready := w.values(t, tb)
			if !ready {
				next = append(next, tb)
				continue
			}
			if !hasID(tb) {
				insert(t, d, tb, vals)
				continue
			}
			w.rows[tb.Name] = insert(t, d, tb, vals)
			if tb.Name == migrate.TenantsTable.Name {
				w.tenantA = w.rows[tb.Name]
			}
		}
		if len(next) == len(pending) {
			t.Fatalf("cannot seed %v: their required foreign keys form a cycle", names(next))
		}
		pending = next
	}
	const stranger, guestID, nobodyID = 1 << 40, 1<<40 + 1, 1<<40 + 2
	w.callers = []caller{
		{name: "stranger", ctx: viewer.NewContext(ctx, &viewer.Viewer{UserID: stranger, TenantID: w.tenantB, Role: viewer.RoleNormal})},
		{name: "guest of the tenant", ctx: viewer.NewContext(ctx, &viewer.Viewer{UserID: guestID, TenantID: w.tenantA, Role: viewer.RoleGuest}), readsA: true},
		{name: "guest of another tenant", ctx: viewer.NewContext(ctx, &viewer.Viewer{UserID: guestID, TenantID: w.tenantB, Role: viewer.RoleGuest})},
		{name: "anonymous", ctx: ctx, denied: true},
		{name: "member with an unknown role", ctx: viewer.NewContext(ctx, &viewer.Viewer{UserID: nobodyID, TenantID: w.tenantA, Role: "auditor"}), denied: true},
	}
	return w
}

// values returns a row for tb in tenant A, or false while a table it needs
// is not seeded yet.
func (w *world) values(t *testing.T, tb *entschema.Table) (map[string]any, bool) {
	fks := map[string]*entschema.ForeignKey{}
	for _, fk := range tb.ForeignKeys {
		for _, c := range fk.Columns {
			fks[c.Name] = fk
		}
	}
	vals := map[string]any{}
	for _, c := range tb.Columns {
		if c.Name == "id" && hasID(tb) {
			continue
		}
		if c.Name == "tenant_id" {
			w.owned[tb.Name] = true
		}
		if fk, ok := fks[c.Name]; ok {
			if c.Nullable {
				continue
			}
			id, seeded := w.rows[fk.RefTable.Name]
			if !seeded {
				return nil, false
			}
			vals[c.Name] = id
			continue
		}
		vals[c.Name] = value(t, tb, c)
	}
	return vals, true
}

// value is a value of column c that any validator-free insert accepts.
func value(t *testing.T, tb *entschema.Table, c *entschema.Column) any {
	switch c.Type {
	case field.TypeBool:
		return false // private: public rows are the policy's business
	case field.TypeTime:
		return time.Now().UTC().Truncate(time.Second)
	case field.TypeJSON:
		return "null"
	case field.TypeBytes:
		return []byte("x")
	case field.TypeEnum:
		return c.Enums[0]
	case field.TypeString:
		return "tenant-a"
	case field.TypeInt, field.TypeInt8, field.TypeInt16, field.TypeInt32, field.TypeInt64,
		field.TypeUint, field.TypeUint8, field.TypeUint16, field.TypeUint32, field.TypeUint64,
		field.TypeFloat32, field.TypeFloat64:
		return 1
	}
	t.Fatalf("%s.%s: no test value for a %s column", tb.Name, c.Name, c.Type)
	return nil
}

func insert(t *testing.T, d *db.DB, tb *entschema.Table, vals map[string]any) int {
	t.Helper()
	cols := make([]string, 0, len(vals))
	for c := range vals {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = vals[c]
	}
	b := entsql.Dialect(d.Dialect).Insert(tb.Name).Columns(cols...).Values(args...)
	ctx := context.Background()
	if !hasID(tb) {
		q, qa := b.Query()
		if _, err := d.SQL.ExecContext(ctx, q, qa...); err != nil {
			t.Fatalf("seeding %s: %v", tb.Name, err)
		}
		return 0
	}
	var id int64
	if d.Dialect == dialect.Postgres {
		q, qa := b.Returning("id").Query()
		if err := d.SQL.QueryRowContext(ctx, q, qa...).Scan(&id); err != nil {
			t.Fatalf("seeding %s: %v", tb.Name, err)
		}
		return int(id)
	}
	q, qa := b.Query()
	res, err := d.SQL.ExecContext(ctx, q, qa...)
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		t.Fatalf("seeding %s: %v", tb.Name, err)
	}
	return int(id)
}

func hasID(tb *entschema.Table) bool {
	return len(tb.PrimaryKey) == 1 && tb.PrimaryKey[0].Name == "id"
}

func names(ts []*entschema.Table) []string {
	out := make([]string, len(ts))
	for i, tb := range ts {
		out[i] = tb.Name
	}
	return out
}

// check runs every caller's reads and writes of n's seeded row.
func (w *world) check(t *testing.T, n *gen.Type) {
	xc := reflect.ValueOf(w.client).Elem().FieldByName(n.Name)
	if !xc.IsValid() {
		t.Fatalf("the ent client has no %s: run make generate", n.Name)
	}
	table := n.Table()
	id, ok := w.rows[table]
	if !ok {
		t.Fatalf("%s: table %s was not seeded", n.Name, table)
	}
	sys := policy.System(context.Background())
	// The seeded row is there for the server.
	if got := idsOf(t, xc, sys); !slices.Contains(got, id) {
		t.Fatalf("the server does not read the seeded %s %d (got %v)", n.Name, id, got)
	}
	for _, c := range w.callers {
		t.Run(c.name, func(t *testing.T) {
			if !c.readsA {
				w.checkReads(t, n, xc, c, id)
			}
			w.checkWrites(t, n, xc, c, id)
			if got := idsOf(t, xc, sys); !slices.Contains(got, id) {
				t.Errorf("the %s's writes deleted %s %d", c.name, n.Name, id)
			}
		})
	}
}

func (w *world) checkReads(t *testing.T, n *gen.Type, xc reflect.Value, c caller, id int) {
	ids, err := callErr(xc.MethodByName("Query").Call(nil)[0], "IDs", c.ctx)
	switch {
	case c.denied && !isDenied(err):
		t.Errorf("%s.Query().IDs: got %v, %v; want a privacy denial", n.Name, ids.Interface(), err)
	case err == nil && slices.Contains(ids.Interface().([]int), id):
		t.Errorf("%s.Query().IDs: the %s reads tenant A's row %d", n.Name, c.name, id)
	}
	got, err := callErr(xc, "Get", c.ctx, id)
	if err == nil {
		t.Errorf("%s.Get(%d): the %s reads tenant A's row: %v", n.Name, id, c.name, got.Interface())
	}
}

func (w *world) checkWrites(t *testing.T, n *gen.Type, xc reflect.Value, c caller, id int) {
	table := n.Table()
	// Create, naming tenant A.
	if w.owned[table] {
		err := w.create(xc, c.ctx, map[string]any{"tenant_id": w.tenantA})
		refused(t, err, fmt.Sprintf("%s.Create() in tenant A", n.Name))
	}
	// Create, hanging from tenant A's rows: every foreign key but tenant_id.
	if parents := w.parents(table); len(parents) > 0 {
		err := w.create(xc, c.ctx, parents)
		refused(t, err, fmt.Sprintf("%s.Create() under tenant A's rows %v", n.Name, parents))
	}
	// A schema owned by no tenant: the caller may not create one at all.
	if !w.owned[table] && len(w.parents(table)) == 0 {
		err := w.create(xc, c.ctx, nil)
		refused(t, err, fmt.Sprintf("%s.Create()", n.Name))
	}
	_, err := callErr(xc.MethodByName("UpdateOneID").Call([]reflect.Value{reflect.ValueOf(id)})[0], "Save", c.ctx)
	refused(t, err, fmt.Sprintf("%s.UpdateOneID(%d)", n.Name, id))
	if k, err := callErr(xc.MethodByName("Update").Call(nil)[0], "Save", c.ctx); err == nil && k.Int() != 0 {
		t.Errorf("%s.Update(): the %s updated %d of tenant A's rows", n.Name, c.name, k.Int())
	}
	err = callExec(xc.MethodByName("DeleteOneID").Call([]reflect.Value{reflect.ValueOf(id)})[0], c.ctx)
	refused(t, err, fmt.Sprintf("%s.DeleteOneID(%d)", n.Name, id))
	if k, err := callErr(xc.MethodByName("Delete").Call(nil)[0], "Exec", c.ctx); err == nil && k.Int() != 0 {
		t.Errorf("%s.Delete(): the %s deleted %d of tenant A's rows", n.Name, c.name, k.Int())
	}
}

// parents returns tenant A's rows that table's foreign keys can point at,
// but for the tenant.
func (w *world) parents(table string) map[string]any {
	out := map[string]any{}
	for _, tb := range migrate.Tables {
		if tb.Name != table {
			continue
		}
		for _, fk := range tb.ForeignKeys {
			if id, ok := w.rows[fk.RefTable.Name]; ok && fk.Columns[0].Name != "tenant_id" {
				out[fk.Columns[0].Name] = id
			}
		}
	}
	return out
}

// create runs XClient.Create() with fields set through the mutation.
func (w *world) create(xc reflect.Value, ctx context.Context, fields map[string]any) error {
	b := xc.MethodByName("Create").Call(nil)[0]
	m := b.MethodByName("Mutation").Call(nil)[0].Interface().(ent.Mutation)
	for f, v := range fields {
		if err := m.SetField(f, v); err != nil {
			return fmt.Errorf("test: setting %s: %w", f, err)
		}
	}
	return callExec(b, ctx)
}

// refused fails unless err is a refusal: a privacy denial, or a row the
// caller cannot see. Any other error (a validation error, say) means the
// policy let the write through.
func refused(t *testing.T, err error, what string) {
	t.Helper()
	if !isDenied(err) && !ent.IsNotFound(err) {
		t.Errorf("%s: got %v, want a privacy denial or not found", what, err)
	}
}

func isDenied(err error) bool { return errors.Is(err, privacy.Deny) }

func idsOf(t *testing.T, xc reflect.Value, ctx context.Context) []int {
	t.Helper()
	ids, err := callErr(xc.MethodByName("Query").Call(nil)[0], "IDs", ctx)
	if err != nil {
		t.Fatalf("server read: %v", err)
	}
	return ids.Interface().([]int)
}

// callErr calls v.method(ctx, args...) returning (value, error).
func callErr(v reflect.Value, method string, ctx context.Context, args ...any) (reflect.Value, error) {
	in := []reflect.Value{reflect.ValueOf(ctx)}
	for _, a := range args {
		in = append(in, reflect.ValueOf(a))
	}
	out := v.MethodByName(method).Call(in)
	err, _ := out[1].Interface().(error)
	return out[0], err
}

// callExec calls v.Exec(ctx) returning its error.
func callExec(v reflect.Value, ctx context.Context) error {
	out := v.MethodByName("Exec").Call([]reflect.Value{reflect.ValueOf(ctx)})
	err, _ := out[0].Interface().(error)
	return err
}
