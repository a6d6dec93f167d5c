package operations_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/testenv"
)

// start runs r until the test ends, and waits for it to stop.
func start(t *testing.T, r *operations.Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestQueues: a kind whose queue is full (every slot held by a slow
// operation) holds up neither another kind nor more than its own limit.
func TestQueues(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t, dsn)
			o := fast
			o.Queues = map[string]int{"slow": 2}
			r := operations.New(d.Client, d.Dialect, o)
			release := make(chan struct{})
			var running, most atomic.Int32
			handle(r, "slow", func(ctx context.Context, _ *ent.Operation) (result, error) {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				select {
				case <-release:
					return result{}, nil
				case <-ctx.Done():
					return result{}, ctx.Err()
				}
			}, nil)
			handle(r, "quick", func(context.Context, *ent.Operation) (result, error) { return result{Done: true}, nil }, nil)
			slow := enqueue(t, r, d, "slow", 6) // three times the queue's slots
			start(t, r)
			sys := policy.System(context.Background())
			testenv.Eventually(t, 5*time.Second, func() bool {
				return d.Client.Operation.Query().Where(operation.Kind("slow"), operation.StatusEQ(operation.StatusRunning)).CountX(sys) == 2
			})
			quick := enqueue(t, r, d, "quick", 10)
			for _, op := range waitAll(t, d, quick, 5*time.Second) {
				if op.Status != operation.StatusSucceeded {
					t.Errorf("quick operation %d: %s (%s)", op.ID, op.Status, op.LastError)
				}
			}
			if n := d.Client.Operation.Query().Where(operation.IDIn(slow...), operation.StatusEQ(operation.StatusPending)).CountX(sys); n != 4 {
				t.Errorf("%d slow operations pending while the queue is full, want 4", n)
			}
			close(release)
			for _, op := range waitAll(t, d, slow, 10*time.Second) {
				if op.Status != operation.StatusSucceeded {
					t.Errorf("slow operation %d: %s (%s)", op.ID, op.Status, op.LastError)
				}
			}
			if m := most.Load(); m != 2 {
				t.Errorf("at most %d slow operations ran at once, want the queue's 2", m)
			}
		})
	}
}

// TestSnooze: more operations waiting on something than the queue has
// workers all get to check, because a snoozed operation gives its worker
// back; a snooze is not an attempt, and its checkpoint reaches the next run.
func TestSnooze(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t, dsn)
			o := fast
			o.Queues = map[string]int{"wait": 1}
			r := operations.New(d.Client, d.Dialect, o)
			var ready atomic.Bool
			var mu sync.Mutex
			checked := map[int]int{} // op -> checks that found it not ready
			type progress struct{ Checks int }
			kind("wait").Handle(r, operations.Handler[args, result]{Run: func(_ context.Context, j *operations.Job[args]) (result, error) {
				var p progress
				if j.Checkpoint(&p) != (p.Checks > 0) {
					return result{}, operations.Permanent(errors.New("Checkpoint reported a checkpoint it did not decode"))
				}
				op := j.Operation
				if !ready.Load() {
					mu.Lock()
					checked[op.ID]++
					if checked[op.ID] != p.Checks+1 {
						mu.Unlock()
						return result{}, operations.Permanent(errors.New("the checkpoint did not come back"))
					}
					mu.Unlock()
					return result{}, operations.Snooze(10*time.Millisecond, progress{Checks: p.Checks + 1})
				}
				return result{Done: p.Checks > 0}, nil
			}})
			ids := enqueue(t, r, d, "wait", 5)
			start(t, r)
			t.Cleanup(func() {
				if t.Failed() {
					for _, op := range d.Client.Operation.Query().AllX(policy.System(context.Background())) {
						t.Logf("op %d: %s attempts %d run_after %s checkpoint %v error %q", op.ID, op.Status, op.Attempts, op.RunAfter, op.Checkpoint, op.LastError)
					}
					mu.Lock()
					t.Logf("checked %v", checked)
					mu.Unlock()
				}
			})
			testenv.Eventually(t, 10*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				if len(checked) < len(ids) {
					return false
				}
				for _, n := range checked {
					if n < 2 {
						return false
					}
				}
				return true
			})
			ready.Store(true)
			for _, op := range waitAll(t, d, ids, 10*time.Second) {
				if op.Status != operation.StatusSucceeded || op.Attempts != 1 || op.Result["done"] != true {
					t.Errorf("operation %d: %s after %d attempts, result %v (%s)", op.ID, op.Status, op.Attempts, op.Result, op.LastError)
				}
			}
		})
	}
}

// TestTypedPayload: arguments and results come back as the types they were
// enqueued and returned as.
func TestTypedPayload(t *testing.T) {
	type target struct {
		Cluster int               `json:"cluster"`
		Labels  map[string]string `json:"labels"`
	}
	type batch struct {
		Hosts   []string  `json:"hosts"`
		Targets []target  `json:"targets"`
		At      time.Time `json:"at"`
		Dry     bool      `json:"dry"`
		Limit   int64     `json:"limit"`
	}
	type outcome struct {
		Done   []string       `json:"done"`
		Counts map[string]int `json:"counts"`
	}
	k := operations.NewKind[batch, outcome]("batch.run")
	d := open(t, "sqlite://:memory:")
	r := operations.New(d.Client, d.Dialect, fast)
	seen := make(chan batch, 1)
	k.Handle(r, operations.Handler[batch, outcome]{Run: func(_ context.Context, j *operations.Job[batch]) (outcome, error) {
		seen <- j.Args
		return outcome{Done: j.Args.Hosts, Counts: map[string]int{"targets": len(j.Args.Targets)}}, nil
	}})
	in := batch{Hosts: []string{"h1", "h2"}, Targets: []target{{Cluster: 7, Labels: map[string]string{"zone": "a"}}},
		At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Dry: true, Limit: 1 << 40}
	op, err := k.Enqueue(policy.System(context.Background()), r, d.Client.Operation.Create().SetTenantID(tenant(t, d)), in)
	if err != nil {
		t.Fatal(err)
	}
	if op.Payload["hosts"] == nil {
		t.Fatalf("the payload row has no hosts: %v", op.Payload)
	}
	start(t, r)
	got := <-seen
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("the handler saw %+v, want %+v", got, in)
	}
	done := waitAll(t, d, []int{op.ID}, 5*time.Second)[0]
	res, err := k.Result(done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (outcome{Done: []string{"h1", "h2"}, Counts: map[string]int{"targets": 1}}); !reflect.DeepEqual(res, want) {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if back, err := k.Args(done); err != nil || !reflect.DeepEqual(back, in) {
		t.Fatalf("Args: %+v, %v", back, err)
	}
	if _, err := operations.NewKind[batch, outcome]("other").Args(done); err == nil {
		t.Fatal("decoding a batch.run as another kind did not fail")
	}
	// A payload that does not decode fails the operation at once.
	bad := d.Client.Operation.Create().SetTenantID(tenant(t, d)).SetKind("batch.run").
		SetPayload(map[string]any{"hosts": "not a list"}).SaveX(policy.System(context.Background()))
	r.Wake()
	if op := waitAll(t, d, []int{bad.ID}, 5*time.Second)[0]; op.Status != operation.StatusFailed || op.Attempts != 1 {
		t.Fatalf("an undecodable payload: %s after %d attempts (%s)", op.Status, op.Attempts, op.LastError)
	}
}

// TestLeaseLost: a handler whose claim is lost stops: its context ends with
// ErrLeaseLost, when another worker takes the claim and when the database
// stops answering the heartbeat; the attempt records nothing, and the
// operation is finished by another runner.
func TestLeaseLost(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			for _, how := range []string{"claim taken", "database gone"} {
				t.Run(how, func(t *testing.T) {
					d1 := open(t, dsn)
					r1 := operations.New(d1.Client, d1.Dialect, fast)
					causes := make(chan error, 1)
					started := make(chan int, 1)
					handle(r1, "guarded", func(ctx context.Context, op *ent.Operation) (result, error) {
						started <- op.ID
						<-ctx.Done()
						causes <- context.Cause(ctx)
						return result{}, ctx.Err()
					}, nil)
					ids := enqueue(t, r1, d1, "guarded", 1)
					ctx1, stop1 := context.WithCancel(context.Background())
					stopped1 := make(chan struct{})
					go func() { r1.Run(ctx1); close(stopped1) }()
					defer func() { stop1(); <-stopped1 }()
					id := <-started
					sys := policy.System(context.Background())
					if how == "claim taken" {
						d1.Client.Operation.UpdateOneID(id).SetClaimedBy("thief/1/x").ExecX(sys)
					} else if err := d1.SQL.Close(); err != nil {
						t.Fatal(err)
					}
					select {
					case cause := <-causes:
						if !errors.Is(cause, operations.ErrLeaseLost) {
							t.Fatalf("the handler's context ended with %v, want ErrLeaseLost", cause)
						}
					case <-time.After(10 * time.Second):
						t.Fatal("the handler's context did not end")
					}
					stop1() // this server goes away; another takes over
					<-stopped1
					d2 := open(t, dsn)
					if how == "claim taken" { // the thief died: its lease runs out
						d2.Client.Operation.UpdateOneID(id).SetLeaseUntil(time.Now()).ExecX(sys)
					}
					r2 := operations.New(d2.Client, d2.Dialect, fast)
					handle(r2, "guarded", func(context.Context, *ent.Operation) (result, error) { return result{Done: true}, nil }, nil)
					start(t, r2)
					op := waitAll(t, d2, ids, 10*time.Second)[0]
					if op.Status != operation.StatusSucceeded || op.Result["done"] != true || op.Attempts != 2 {
						t.Fatalf("after the lease was lost: %s after %d attempts (%s)", op.Status, op.Attempts, op.LastError)
					}
				})
			}
		})
	}
}

// TestPeriodic: two runners on one database run a periodic kind once per
// interval between them: one row, never two runs at a time, runs at least
// an interval apart.
func TestPeriodic(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			const every = 100 * time.Millisecond
			k := operations.NewKind[args, result]("registry.tick")
			var mu sync.Mutex
			var starts []time.Time
			var running, overlaps atomic.Int32
			var runners []*operations.Runner
			for i := 0; i < 2; i++ {
				d := open(t, dsn)
				tenant(t, d)
				r := operations.New(d.Client, d.Dialect, fast)
				k.Handle(r, operations.Handler[args, result]{Run: func(_ context.Context, j *operations.Job[args]) (result, error) {
					if running.Add(1) > 1 {
						overlaps.Add(1)
					}
					defer running.Add(-1)
					mu.Lock()
					starts = append(starts, time.Now())
					mu.Unlock()
					time.Sleep(5 * time.Millisecond) // a little work, so two runs could overlap
					return result{Done: j.Args.I == 42}, nil
				}})
				if err := k.Every(r, every, args{I: 42}); err != nil {
					t.Fatal(err)
				}
				runners = append(runners, r)
			}
			for _, r := range runners {
				start(t, r)
			}
			testenv.Eventually(t, 10*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(starts) >= 6
			})
			d := open(t, dsn)
			sys := policy.System(context.Background())
			ops := d.Client.Operation.Query().Where(operation.Kind("registry.tick")).AllX(sys)
			if len(ops) != 1 || ops[0].UniqueKey == nil || ops[0].FinishedAt == nil {
				t.Fatalf("%d rows for the periodic kind (%+v), want one that has finished a run", len(ops), ops)
			}
			if ops[0].Status == operation.StatusPending && ops[0].RunAfter.Before(*ops[0].FinishedAt) {
				t.Errorf("the periodic row is due at %s, before its last run finished at %s", ops[0].RunAfter, *ops[0].FinishedAt)
			}
			if overlaps.Load() > 0 {
				t.Errorf("two runs overlapped %d times", overlaps.Load())
			}
			mu.Lock()
			defer mu.Unlock()
			for i := 1; i < len(starts); i++ {
				// PostgreSQL keeps microseconds: allow a millisecond.
				if gap := starts[i].Sub(starts[i-1]); gap < every-time.Millisecond {
					t.Errorf("runs %d and %d were %s apart, want at least %s", i-1, i, gap, every)
				}
			}
		})
	}
}
