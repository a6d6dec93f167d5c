package operations_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/testenv"
)

var fast = operations.Options{Workers: 3, Lease: time.Second, Poll: 20 * time.Millisecond, Backoff: 10 * time.Millisecond,
	Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

func open(t *testing.T, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// databases: a SQLite file (shared by several "processes") and PostgreSQL.
func databases(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "ops.db")}
	for _, d := range testenv.Databases() {
		if d.Name == "postgres" {
			out["postgres"] = d.DSN(t)
		}
	}
	return out
}

func tenant(t *testing.T, d *db.DB) int {
	ctx := policy.System(context.Background())
	if id, err := d.Client.Tenant.Query().FirstID(ctx); err == nil {
		return id
	}
	return d.Client.Tenant.Create().SetName("t").SaveX(ctx).ID
}

// args is the payload of the test kinds.
type args struct{ I int }

// result is what the test kinds return.
type result struct {
	Done bool `json:"done,omitempty"`
}

func kind(name string) operations.Kind[args, result] { return operations.NewKind[args, result](name) }

// handle registers a test kind whose handler sees only the operation.
func handle(r *operations.Runner, name string, run func(context.Context, *ent.Operation) (result, error),
	finished func(context.Context, *ent.Operation, operation.Status, error) error) {
	h := operations.Handler[args, result]{Run: func(ctx context.Context, j *operations.Job[args]) (result, error) {
		return run(ctx, j.Operation)
	}}
	if finished != nil {
		h.Finished = func(ctx context.Context, j *operations.Job[args], st operation.Status, err error) error {
			return finished(ctx, j.Operation, st, err)
		}
	}
	kind(name).Handle(r, h)
}

func enqueue(t *testing.T, r *operations.Runner, d *db.DB, name string, n int) []int {
	t.Helper()
	ctx := policy.System(context.Background())
	tid := tenant(t, d)
	var ids []int
	for i := 0; i < n; i++ {
		op, err := kind(name).Enqueue(ctx, r, d.Client.Operation.Create().SetTenantID(tid), args{I: i})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, op.ID)
	}
	return ids
}

func waitAll(t *testing.T, d *db.DB, ids []int, timeout time.Duration) []*ent.Operation {
	t.Helper()
	ctx := policy.System(context.Background())
	var ops []*ent.Operation
	testenv.Eventually(t, timeout, func() bool {
		ops = d.Client.Operation.Query().Where(operation.IDIn(ids...)).Order(ent.Asc("id")).AllX(ctx)
		for _, op := range ops {
			switch op.Status {
			case operation.StatusPending, operation.StatusRunning:
				return false
			}
		}
		return true
	})
	return ops
}

func TestOutcomes(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t, dsn)
			r := operations.New(d.Client, d.Dialect, fast)
			var flaky atomic.Int32
			finished := map[string]operation.Status{}
			var mu sync.Mutex
			record := func(_ context.Context, op *ent.Operation, st operation.Status, _ error) error {
				mu.Lock()
				defer mu.Unlock()
				finished[op.Kind] = st
				return nil
			}
			handle(r, "ok", func(context.Context, *ent.Operation) (result, error) {
				return result{Done: true}, nil
			}, record)
			handle(r, "flaky", func(context.Context, *ent.Operation) (result, error) {
				if flaky.Add(1) < 3 {
					return result{}, errors.New("try again")
				}
				return result{}, nil
			}, record)
			handle(r, "broken", func(context.Context, *ent.Operation) (result, error) {
				return result{}, operations.Permanent(errors.New("cannot work"))
			}, record)
			handle(r, "hopeless", func(context.Context, *ent.Operation) (result, error) {
				return result{}, errors.New("always fails")
			}, record)
			handle(r, "panics", func(context.Context, *ent.Operation) (result, error) {
				panic("boom")
			}, record)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go r.Run(ctx)
			var ids []int
			for _, k := range []string{"ok", "flaky", "broken", "hopeless", "panics", "unknown"} {
				ids = append(ids, enqueue(t, r, d, k, 1)...)
			}
			ops := waitAll(t, d, ids, 10*time.Second)
			want := []struct {
				st       operation.Status
				attempts int
			}{{"succeeded", 1}, {"succeeded", 3}, {"failed", 1}, {"failed", 3}, {"failed", 1}, {"failed", 1}}
			for i, op := range ops {
				if op.Status != want[i].st || op.Attempts != want[i].attempts || op.ClaimedBy != "" {
					t.Errorf("%s: %s after %d attempts (%q), want %s after %d", op.Kind, op.Status, op.Attempts, op.LastError, want[i].st, want[i].attempts)
				}
				if op.Status == operation.StatusSucceeded && op.FinishedAt == nil {
					t.Errorf("%s: no finish time", op.Kind)
				}
			}
			if ops[0].Result["done"] != true || ops[4].LastError == "" {
				t.Errorf("result %v, panic error %q", ops[0].Result, ops[4].LastError)
			}
			mu.Lock()
			defer mu.Unlock()
			if finished["ok"] != "succeeded" || finished["broken"] != "failed" || finished["hopeless"] != "failed" {
				t.Errorf("Finished hooks saw %v", finished)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t, dsn)
			r := operations.New(d.Client, d.Dialect, fast)
			started := make(chan struct{}, 1)
			handle(r, "slow", func(ctx context.Context, _ *ent.Operation) (result, error) {
				started <- struct{}{}
				<-ctx.Done()
				return result{}, ctx.Err()
			}, nil)
			sys := policy.System(context.Background())
			// Cancelled before a runner sees it.
			pending := enqueue(t, r, d, "slow", 1)
			if _, err := r.Cancel(sys, d.Client, pending[0]); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go r.Run(ctx)
			ops := waitAll(t, d, pending, 5*time.Second)
			if ops[0].Status != operation.StatusCancelled || ops[0].Attempts != 0 {
				t.Fatalf("pending cancel: %s after %d attempts", ops[0].Status, ops[0].Attempts)
			}
			// Cancelled while running.
			running := enqueue(t, r, d, "slow", 1)
			<-started
			if _, err := r.Cancel(sys, d.Client, running[0]); err != nil {
				t.Fatal(err)
			}
			ops = waitAll(t, d, running, 5*time.Second)
			if ops[0].Status != operation.StatusCancelled {
				t.Fatalf("running cancel: %s (%s)", ops[0].Status, ops[0].LastError)
			}
			var fin *operations.Finished
			if _, err := r.Cancel(sys, d.Client, running[0]); !errors.As(err, &fin) {
				t.Fatalf("cancelling a finished operation: %v", err)
			}
		})
	}
}

// TestRestart: a server stopped mid-operation (in-process: its context
// ends before the handler finishes), and one that died holding a claim;
// a new server on the same database finishes every operation exactly once.
func TestRestart(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			d1 := open(t, dsn)
			var completions sync.Map // op id -> count of handler runs that returned
			block := make(chan struct{})
			handler := func(blocking bool) func(context.Context, *ent.Operation) (result, error) {
				return func(ctx context.Context, op *ent.Operation) (result, error) {
					if blocking {
						select {
						case <-block:
						case <-ctx.Done():
							return result{}, ctx.Err()
						}
					}
					v, _ := completions.LoadOrStore(op.ID, new(atomic.Int32))
					v.(*atomic.Int32).Add(1)
					return result{}, nil
				}
			}
			r1 := operations.New(d1.Client, d1.Dialect, fast)
			handle(r1, "job", handler(true), nil)
			ids := enqueue(t, r1, d1, "job", 5)
			ctx1, stop1 := context.WithCancel(context.Background())
			done1 := make(chan struct{})
			go func() { r1.Run(ctx1); close(done1) }()
			sys := policy.System(context.Background())
			testenv.Eventually(t, 5*time.Second, func() bool {
				return d1.Client.Operation.Query().Where(operation.StatusEQ(operation.StatusRunning)).CountX(sys) == 3
			})
			stop1() // the server goes away with three operations running
			<-done1

			// Another process died holding a claim on a sixth operation.
			dead := enqueue(t, r1, d1, "job", 1)[0]
			d1.Client.Operation.UpdateOneID(dead).SetStatus(operation.StatusRunning).SetClaimedBy("dead-host/1/x").
				SetLeaseUntil(time.Now().Add(300 * time.Millisecond)).AddAttempts(1).ExecX(sys)
			ids = append(ids, dead)

			d2 := open(t, dsn)
			r2 := operations.New(d2.Client, d2.Dialect, fast)
			handle(r2, "job", handler(false), nil)
			ctx2, stop2 := context.WithCancel(context.Background())
			defer stop2()
			go r2.Run(ctx2)
			ops := waitAll(t, d2, ids, 10*time.Second)
			for _, op := range ops {
				v, ok := completions.Load(op.ID)
				if op.Status != operation.StatusSucceeded || !ok || v.(*atomic.Int32).Load() != 1 {
					n := int32(0)
					if ok {
						n = v.(*atomic.Int32).Load()
					}
					t.Errorf("operation %d: %s, finished %d times", op.ID, op.Status, n)
				}
			}
			close(block)
		})
	}
}

// TestReplicas: two runners (two "processes", each with its own connection
// pool) on one database never run the same operation twice.
func TestReplicas(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			var runs sync.Map
			var dup atomic.Int32
			run := func(ctx context.Context, op *ent.Operation) (result, error) {
				if _, loaded := runs.LoadOrStore(op.ID, true); loaded {
					dup.Add(1)
				}
				time.Sleep(2 * time.Millisecond) // a little work, so the replicas overlap
				return result{}, nil
			}
			var ids []int
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < 2; i++ {
				d := open(t, dsn)
				r := operations.New(d.Client, d.Dialect, fast)
				handle(r, "job", run, nil)
				if i == 0 {
					ids = enqueue(t, r, d, "job", 60)
				}
				go r.Run(ctx)
			}
			d := open(t, dsn)
			ops := waitAll(t, d, ids, 20*time.Second)
			for _, op := range ops {
				if op.Status != operation.StatusSucceeded || op.Attempts != 1 {
					t.Errorf("op %d: %s after %d attempts", op.ID, op.Status, op.Attempts)
				}
			}
			if dup.Load() > 0 {
				t.Fatalf("%d operations ran twice", dup.Load())
			}
		})
	}
}
