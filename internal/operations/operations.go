// Package operations carries out durable work. An operation is a row written
// in the transaction of the request that asks for it (Enqueue); a Runner's
// workers claim rows, run the kind's handler and record the outcome:
// pending -> running -> succeeded | failed, or cancelled.
//
// A claim is a lease: a worker that dies leaves its operation running until
// the lease ends, then another worker takes it over, so every operation is
// finished exactly once even across crashes (handlers must therefore be
// idempotent: they may run again after a crash). On PostgreSQL claims use
// SELECT ... FOR UPDATE SKIP LOCKED, so replicas never run one operation at
// the same time; on SQLite the claim transaction holds the write lock. A
// heartbeat renews the lease; when it cannot, the handler's context ends
// (ErrLeaseLost).
//
// Kinds are typed (Kind[Args, Result], kind.go) and each runs in a queue
// with its own concurrency; a handler that waits on something outside
// returns Snooze and gives its worker back. A periodic kind (Kind.Every,
// periodic.go) has one row that runs once per interval across replicas.
package operations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/predicate"
	"github.com/meridianplane/meridian/internal/policy"
)

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Options tune a Runner.
type Options struct {
	// Workers is how many operations of one queue run at once unless
	// Queues says otherwise (default 4).
	Workers int
	// Queues sets the concurrency of named queues. Every kind has a queue
	// of its own (named after the kind) unless it shares one (InQueue).
	Queues  map[string]int
	Lease   time.Duration // how long a claim lasts without a heartbeat (default 30s)
	Poll    time.Duration // how often an idle runner looks for work (default 1s)
	Backoff time.Duration // first retry delay, doubling (default 2s)
	Log     *slog.Logger
}

// Runner claims and runs operations.
type Runner struct {
	client  *ent.Client
	dialect string
	id      string
	o       Options
	wake    chan struct{}
	log     *slog.Logger
	claims  atomic.Int64

	handlers map[string]handler
	queueOf  map[string]*queue // by kind
	queues   map[string]*queue // by name
	other    *queue            // kinds with no handler: they fail at once
	periodic map[string]periodic

	mu        sync.Mutex // guards listeners and the queues' running counts
	listeners []func(*ent.Operation)
}

// queue bounds how many operations of its kinds run at once.
type queue struct {
	name    string
	limit   int
	running int
	kinds   []string
}

// New returns a Runner over client; dialect is "sqlite3" or "postgres".
func New(client *ent.Client, dialect string, o Options) *Runner {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Runner{
		client: client, dialect: dialect, o: o, log: o.Log,
		id:       fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		wake:     make(chan struct{}, 1),
		handlers: map[string]handler{}, queueOf: map[string]*queue{}, queues: map[string]*queue{},
		other: &queue{limit: 1}, periodic: map[string]periodic{},
	}
}

func (r *Runner) register(kind, queueName string, h handler) {
	if _, dup := r.handlers[kind]; dup {
		panic(fmt.Sprintf("operations: kind %q registered twice", kind))
	}
	q, ok := r.queues[queueName]
	if !ok {
		limit, set := r.o.Queues[queueName]
		if !set || limit <= 0 {
			limit = r.o.Workers
		}
		q = &queue{name: queueName, limit: limit}
		r.queues[queueName] = q
	}
	q.kinds = append(q.kinds, kind)
	r.handlers[kind] = h
	r.queueOf[kind] = q
}

// ID names this runner: its claims (claimed_by) are "<ID>#<n>".
func (r *Runner) ID() string { return r.id }

// OnUpdate adds a listener told of every change a runner makes to an
// operation (for subscriptions).
func (r *Runner) OnUpdate(f func(*ent.Operation)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, f)
}

func (r *Runner) notify(op *ent.Operation) {
	r.Wake()
	r.mu.Lock()
	ls := append([]func(*ent.Operation){}, r.listeners...)
	r.mu.Unlock()
	for _, f := range ls {
		f(op)
	}
}

// Wake makes an idle worker look for work now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Enqueue writes a pending operation with the client of ctx's transaction
// when there is one, so that it commits (or not) with the request, and wakes
// the runner once it has committed.
func (r *Runner) Enqueue(ctx context.Context, c *ent.OperationCreate) (*ent.Operation, error) {
	op, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	r.afterCommit(ctx, op)
	return op, nil
}

// Run works until ctx ends. Operations still running then are released
// for another runner (or the next start) to take over.
//
// One loop claims operations for every queue that has a free slot and runs
// each in a goroutine of its own; a queue at its limit is left out of the
// claim, so a full queue never holds up another.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	r.armPeriodic(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.wake:
		}
		for ctx.Err() == nil {
			kinds, other := r.free()
			if len(kinds) == 0 && !other {
				break
			}
			op, err := r.claim(ctx, kinds, other)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Error("operations: claim", "err", err)
				}
				break
			}
			if op == nil {
				break
			}
			q := r.take(op.Kind)
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.execute(ctx, op)
				r.give(q)
			}()
		}
		timer.Reset(r.o.Poll)
	}
}

// free lists the kinds whose queues have a free slot, and whether kinds
// with no handler may be claimed.
func (r *Runner) free() (kinds []string, other bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.queues {
		if q.running < q.limit {
			kinds = append(kinds, q.kinds...)
		}
	}
	return kinds, r.other.running < r.other.limit
}

// take counts a claimed operation against its queue; give releases it.
func (r *Runner) take(kind string) *queue {
	q, ok := r.queueOf[kind]
	if !ok {
		q = r.other
	}
	r.mu.Lock()
	q.running++
	r.mu.Unlock()
	return q
}

func (r *Runner) give(q *queue) {
	r.mu.Lock()
	q.running--
	r.mu.Unlock()
	r.Wake()
}

// sys is the runner's context: it acts for the server, across tenants.
func sys(ctx context.Context) context.Context { return policy.System(ctx) }

// claim takes one runnable operation: pending and due, or running with an
// expired lease (its worker died).
func (r *Runner) claim(ctx context.Context, kinds []string, other bool) (*ent.Operation, error) {
	ctx = sys(ctx)
	var which []predicate.Operation
	if len(kinds) > 0 {
		which = append(which, operation.KindIn(kinds...))
	}
	if other {
		if len(r.handlers) == 0 {
			which = append(which, operation.KindNEQ(""))
		} else {
			which = append(which, operation.KindNotIn(slices.Collect(maps.Keys(r.handlers))...))
		}
	}
	tx, err := r.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	q := tx.Operation.Query().Where(operation.Or(
		operation.And(operation.StatusEQ(operation.StatusPending), operation.RunAfterLTE(now)),
		operation.And(operation.StatusEQ(operation.StatusRunning), operation.LeaseUntilLT(now)),
	), operation.Or(which...)).Order(ent.Asc(operation.FieldRunAfter), ent.Asc(operation.FieldID)) // longest due first: a snoozing operation does not starve the others
	if r.dialect == "postgres" {
		q = q.ForUpdate(entsql.WithLockAction(entsql.SkipLocked))
	}
	op, err := q.First(ctx)
	if ent.IsNotFound(err) {
		return nil, tx.Rollback()
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	// Each claim has a token of its own, so an attempt of this runner
	// whose lease ran out cannot record over the attempt that took over.
	token := fmt.Sprintf("%s#%d", r.id, r.claims.Add(1))
	upd := tx.Operation.UpdateOne(op).SetClaimedBy(token).SetLeaseUntil(now.Add(r.o.Lease))
	if op.CancelRequested {
		upd.SetStatus(operation.StatusCancelled).SetFinishedAt(now).SetLastError("cancelled before it ran")
	} else {
		upd.SetStatus(operation.StatusRunning).AddAttempts(1)
		if op.StartedAt == nil {
			upd.SetStartedAt(now)
		}
	}
	op, err = upd.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	r.notify(op)
	if op.Status == operation.StatusCancelled {
		if err := r.finished(ctx, r.client, op, nil); err != nil {
			r.log.Error("operations: recording a cancellation", "op", op.ID, "err", err)
		}
		return r.claim(ctx, kinds, other)
	}
	return op, nil
}

// execute runs a claimed operation and records how it ended.
func (r *Runner) execute(ctx context.Context, op *ent.Operation) {
	h, ok := r.handlers[op.Kind]
	if !ok {
		r.finish(ctx, op, nil, Permanent(fmt.Errorf("no handler for operation kind %q", op.Kind)))
		return
	}
	runCtx, cancel := context.WithCancelCause(sys(ctx))
	defer cancel(nil)
	done := make(chan struct{})
	go r.heartbeat(runCtx, cancel, op, done)
	defer close(done) // the lease is renewed until the outcome is recorded
	result, err := safeRun(runCtx, h, op)
	if ctx.Err() != nil {
		// The runner is stopping: give the operation back untouched by
		// this attempt, for the next worker.
		r.release(op)
		return
	}
	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, ErrLeaseLost):
		// Another worker has it, or will once the lease ends: this
		// attempt records nothing.
		r.log.Warn("operations: lease lost; the operation is left to another worker", "op", op.ID, "kind", op.Kind, "err", cause)
		return
	case errors.Is(cause, errCancelled):
		err = errCancelled
	}
	r.finish(ctx, op, result, err)
}

var errCancelled = errors.New("cancelled")

// ErrLeaseLost is the cause (context.Cause) of a handler's context ended
// because its claim could not be renewed: another worker took the
// operation over, or the database did not answer before the lease ran out.
var ErrLeaseLost = errors.New("operations: lease lost")

func safeRun(ctx context.Context, h handler, op *ent.Operation) (res map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("handler panicked: %v", p))
		}
	}()
	return h.run(ctx, op)
}

// heartbeat extends the lease while the handler runs. It cancels the
// handler's context when a user asks, and when the lease is lost: another
// worker holds the claim, or renewing failed for so long that the lease
// would end before the next try.
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, op *ent.Operation, done <-chan struct{}) {
	every := r.o.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	leaseEnd := time.Now().Add(r.o.Lease)
	if op.LeaseUntil != nil {
		leaseEnd = *op.LeaseUntil
	}
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		until := time.Now().Add(r.o.Lease)
		n, err := r.client.Operation.Update().
			Where(operation.ID(op.ID), operation.ClaimedBy(op.ClaimedBy), operation.StatusEQ(operation.StatusRunning)).
			SetLeaseUntil(until).Save(ctx)
		if err != nil {
			if !time.Now().Add(every).Before(leaseEnd) {
				cancel(fmt.Errorf("%w: cannot renew it: %v", ErrLeaseLost, err))
				return
			}
			continue
		}
		if n == 0 {
			cancel(fmt.Errorf("%w: another worker holds the claim", ErrLeaseLost))
			return
		}
		leaseEnd = until
		if c, err := r.client.Operation.Query().Where(operation.ID(op.ID), operation.CancelRequested(true)).Exist(ctx); err == nil && c {
			cancel(errCancelled)
			return
		}
	}
}

// finish records the outcome of an attempt. A final outcome and the kind's
// Finished hook commit together, so nobody sees a failed operation whose
// deployment does not say so yet. A snoozed operation goes back to pending
// without counting the attempt; a periodic one is armed for its next run.
func (r *Runner) finish(ctx context.Context, op *ent.Operation, result map[string]any, runErr error) {
	ctx = sys(context.WithoutCancel(ctx))
	now := time.Now()
	var status operation.Status
	var wakeIn time.Duration
	tx, err := r.client.Tx(ctx)
	if err != nil {
		r.log.Error("operations: recording the outcome", "op", op.ID, "err", err)
		return
	}
	upd := tx.Operation.Update().Where(operation.ID(op.ID), operation.ClaimedBy(op.ClaimedBy), operation.StatusEQ(operation.StatusRunning)).
		SetClaimedBy("").ClearLeaseUntil()
	sn, isSnooze := snoozed(runErr)
	switch {
	case runErr == nil:
		status = operation.StatusSucceeded
		upd.SetStatus(status).SetFinishedAt(now).SetLastError("")
		if result != nil {
			upd.SetResult(result)
		}
	case isSnooze:
		status, wakeIn = operation.StatusPending, sn.after
		upd.SetStatus(status).SetRunAfter(now.Add(sn.after)).AddAttempts(-1)
		if sn.checkpoint != nil {
			upd.SetCheckpoint(sn.checkpoint)
		}
	case errors.Is(runErr, errCancelled):
		status = operation.StatusCancelled
		upd.SetStatus(status).SetFinishedAt(now).SetLastError("cancelled while running")
	case !IsPermanent(runErr) && op.Attempts < op.MaxAttempts:
		status = operation.StatusPending
		wakeIn = r.o.Backoff << min(op.Attempts-1, 8)
		// A failed attempt starts over: what snoozes kept is dropped.
		upd.SetStatus(status).SetRunAfter(now.Add(wakeIn)).SetLastError(Clip(runErr.Error())).ClearCheckpoint()
	default:
		status = operation.StatusFailed
		upd.SetStatus(status).SetFinishedAt(now).SetLastError(Clip(runErr.Error()))
	}
	n, err := upd.Save(ctx)
	if err != nil || n == 0 {
		_ = tx.Rollback()
		r.log.Warn("operations: could not record the outcome (claim lost?)", "op", op.ID, "err", err)
		return
	}
	done, err := tx.Operation.Get(ctx, op.ID)
	if err == nil && status != operation.StatusPending {
		err = r.finished(ent.NewTxContext(ctx, tx), tx.Client(), done, runErr)
		if err == nil {
			var again time.Duration
			if done, again, err = r.rearm(ctx, tx.Client(), done); again > 0 {
				wakeIn = again
			}
		}
	}
	if err != nil {
		_ = tx.Rollback()
		r.log.Error("operations: recording the outcome", "op", op.ID, "kind", op.Kind, "err", err)
		return
	}
	if err := tx.Commit(); err != nil {
		r.log.Error("operations: recording the outcome", "op", op.ID, "err", err)
		return
	}
	r.notify(done)
	if wakeIn > 0 {
		time.AfterFunc(wakeIn, r.Wake) // due again: do not wait for the next poll
	}
}

// finished runs the kind's Finished hook with the transaction's client in ctx.
func (r *Runner) finished(ctx context.Context, client *ent.Client, op *ent.Operation, runErr error) error {
	h, ok := r.handlers[op.Kind]
	if !ok {
		return nil
	}
	if op.Status == operation.StatusCancelled && runErr == nil {
		runErr = errCancelled
	}
	return h.finished(ent.NewContext(ctx, client), op, op.Status, runErr)
}

// release gives a claimed operation back as pending, undoing the attempt.
func (r *Runner) release(op *ent.Operation) {
	ctx := sys(context.Background())
	_, err := r.client.Operation.Update().
		Where(operation.ID(op.ID), operation.ClaimedBy(op.ClaimedBy), operation.StatusEQ(operation.StatusRunning)).
		SetStatus(operation.StatusPending).SetClaimedBy("").ClearLeaseUntil().AddAttempts(-1).Save(ctx)
	if err != nil {
		r.log.Warn("operations: releasing", "op", op.ID, "err", err)
	}
}

// Clip shortens an error text to what an operation or deployment keeps.
func Clip(s string) string {
	if len(s) <= 4000 {
		return s
	}
	s = s[:4000]
	for !utf8.ValidString(s) { // do not cut a character in two
		s = s[:len(s)-1]
	}
	return s + "…"
}
