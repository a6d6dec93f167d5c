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
// the same time; on SQLite the claim transaction holds the write lock.
package operations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/internal/policy"
)

// Kind is what the runner knows about one kind of operation.
type Kind struct {
	// Run does the work. It returns the operation's result, or an error:
	// retried with backoff up to max_attempts unless Permanent.
	Run func(ctx context.Context, op *ent.Operation) (map[string]any, error)
	// Finished, when set, records the final outcome in the domain's rows
	// (a deployment marked failed, say). err is nil on success. It runs in
	// the transaction that ends the operation: use ent.FromContext(ctx).
	Finished func(ctx context.Context, op *ent.Operation, status operation.Status, err error) error
}

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
	Workers int           // concurrent operations (default 4)
	Lease   time.Duration // how long a claim lasts without a heartbeat (default 30s)
	Poll    time.Duration // how often idle workers look for work (default 1s)
	Backoff time.Duration // first retry delay, doubling (default 2s)
	Log     *slog.Logger
}

// Runner claims and runs operations.
type Runner struct {
	client  *ent.Client
	dialect string
	id      string
	kinds   map[string]Kind
	o       Options
	wake    chan struct{}
	log     *slog.Logger

	mu        sync.Mutex
	listeners []func(*ent.Operation)
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
		client: client, dialect: dialect, kinds: map[string]Kind{}, o: o, log: o.Log,
		id:   fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		wake: make(chan struct{}, 1),
	}
}

// ID names this runner in claimed_by.
func (r *Runner) ID() string { return r.id }

// Register sets the handler of a kind. Register every kind before Run.
func (r *Runner) Register(kind string, k Kind) { r.kinds[kind] = k }

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
// for another worker (or the next start) to take over.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < r.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
}

func (r *Runner) work(ctx context.Context) {
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
			op, err := r.claim(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Error("operations: claim", "err", err)
				}
				break
			}
			if op == nil {
				break
			}
			r.execute(ctx, op)
		}
		timer.Reset(r.o.Poll)
	}
}

// sys is the runner's context: it acts for the server, across tenants.
func sys(ctx context.Context) context.Context { return policy.System(ctx) }

// claim takes one runnable operation: pending and due, or running with an
// expired lease (its worker died).
func (r *Runner) claim(ctx context.Context) (*ent.Operation, error) {
	ctx = sys(ctx)
	tx, err := r.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	q := tx.Operation.Query().Where(operation.Or(
		operation.And(operation.StatusEQ(operation.StatusPending), operation.RunAfterLTE(now)),
		operation.And(operation.StatusEQ(operation.StatusRunning), operation.LeaseUntilLT(now)),
	)).Order(ent.Asc(operation.FieldID))
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
	upd := tx.Operation.UpdateOne(op).SetClaimedBy(r.id).SetLeaseUntil(now.Add(r.o.Lease))
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
		return r.claim(ctx)
	}
	return op, nil
}

// execute runs a claimed operation and records how it ended.
func (r *Runner) execute(ctx context.Context, op *ent.Operation) {
	k, ok := r.kinds[op.Kind]
	if !ok {
		r.finish(ctx, op, nil, Permanent(fmt.Errorf("no handler for operation kind %q", op.Kind)))
		return
	}
	runCtx, cancel := context.WithCancelCause(sys(ctx))
	defer cancel(nil)
	done := make(chan struct{})
	go r.heartbeat(runCtx, cancel, op, done)
	result, err := safeRun(runCtx, k, op)
	close(done)
	if ctx.Err() != nil {
		// The runner is stopping: give the operation back untouched by
		// this attempt, for the next worker.
		r.release(op)
		return
	}
	if errors.Is(context.Cause(runCtx), errCancelled) {
		err = errCancelled
	}
	r.finish(ctx, op, result, err)
}

var errCancelled = errors.New("cancelled")

func safeRun(ctx context.Context, k Kind, op *ent.Operation) (res map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("handler panicked: %v", p))
		}
	}()
	return k.Run(ctx, op)
}

// heartbeat extends the lease while the handler runs and cancels it when a
// user asks.
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, op *ent.Operation, done <-chan struct{}) {
	t := time.NewTicker(r.o.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := r.client.Operation.Update().
			Where(operation.ID(op.ID), operation.ClaimedBy(r.id), operation.StatusEQ(operation.StatusRunning)).
			SetLeaseUntil(time.Now().Add(r.o.Lease)).Save(ctx)
		if err != nil {
			continue
		}
		if n == 0 {
			cancel(errors.New("lost the claim"))
			return
		}
		if c, err := r.client.Operation.Query().Where(operation.ID(op.ID), operation.CancelRequested(true)).Exist(ctx); err == nil && c {
			cancel(errCancelled)
			return
		}
	}
}

// finish records the outcome of an attempt. A final outcome and the kind's
// Finished hook commit together, so nobody sees a failed operation whose
// deployment does not say so yet.
func (r *Runner) finish(ctx context.Context, op *ent.Operation, result map[string]any, runErr error) {
	ctx = sys(context.WithoutCancel(ctx))
	now := time.Now()
	var status operation.Status
	tx, err := r.client.Tx(ctx)
	if err != nil {
		r.log.Error("operations: recording the outcome", "op", op.ID, "err", err)
		return
	}
	upd := tx.Operation.Update().Where(operation.ID(op.ID), operation.ClaimedBy(r.id), operation.StatusEQ(operation.StatusRunning)).
		SetClaimedBy("").ClearLeaseUntil()
	switch {
	case runErr == nil:
		status = operation.StatusSucceeded
		upd.SetStatus(status).SetFinishedAt(now).SetLastError("")
		if result != nil {
			upd.SetResult(result)
		}
	case errors.Is(runErr, errCancelled):
		status = operation.StatusCancelled
		upd.SetStatus(status).SetFinishedAt(now).SetLastError("cancelled while running")
	case !IsPermanent(runErr) && op.Attempts < op.MaxAttempts:
		status = operation.StatusPending
		delay := r.o.Backoff << min(op.Attempts-1, 8)
		upd.SetStatus(status).SetRunAfter(now.Add(delay)).SetLastError(Clip(runErr.Error()))
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
}

// finished runs the kind's Finished hook with the transaction's client in ctx.
func (r *Runner) finished(ctx context.Context, client *ent.Client, op *ent.Operation, runErr error) error {
	k, ok := r.kinds[op.Kind]
	if !ok || k.Finished == nil {
		return nil
	}
	if op.Status == operation.StatusCancelled && runErr == nil {
		runErr = errCancelled
	}
	return k.Finished(ent.NewContext(ctx, client), op, op.Status, runErr)
}

// release gives a claimed operation back as pending, undoing the attempt.
func (r *Runner) release(op *ent.Operation) {
	ctx := sys(context.Background())
	_, err := r.client.Operation.Update().
		Where(operation.ID(op.ID), operation.ClaimedBy(r.id), operation.StatusEQ(operation.StatusRunning)).
		SetStatus(operation.StatusPending).SetClaimedBy("").ClearLeaseUntil().AddAttempts(-1).Save(ctx)
	if err != nil {
		r.log.Warn("operations: releasing", "op", op.ID, "err", err)
	}
}

// Cancel stops an operation. A pending one is cancelled at once, with its
// kind's Finished hook, in the caller's transaction; a running one is asked
// to stop and ends when its handler next sees its context. The operation is
// looked up under the caller's privacy (ctx), so users cancel only what they
// can see; client is the caller's (transaction) client.
func (r *Runner) Cancel(ctx context.Context, client *ent.Client, id int) (*ent.Operation, error) {
	op, err := client.Operation.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch op.Status {
	case operation.StatusSucceeded, operation.StatusFailed, operation.StatusCancelled:
		return op, &Finished{Status: op.Status}
	case operation.StatusPending:
		n, err := client.Operation.Update().Where(operation.ID(id), operation.StatusEQ(operation.StatusPending)).
			SetStatus(operation.StatusCancelled).SetCancelRequested(true).SetFinishedAt(time.Now()).
			SetLastError("cancelled before it ran").Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 1 {
			if op, err = client.Operation.Get(ctx, id); err != nil {
				return nil, err
			}
			if err := r.finished(sys(ctx), client, op, nil); err != nil {
				return nil, err
			}
			r.afterCommit(ctx, op)
			return op, nil
		}
		// A worker claimed it meanwhile: ask it to stop.
	}
	op, err = client.Operation.UpdateOneID(id).SetCancelRequested(true).Save(ctx)
	if err == nil {
		r.afterCommit(ctx, op)
	}
	return op, err
}

// afterCommit tells listeners about op once ctx's transaction (if any) commits.
func (r *Runner) afterCommit(ctx context.Context, op *ent.Operation) {
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		r.notify(op)
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				r.notify(op)
			}
			return err
		})
	})
}

// Finished is the error of cancelling an operation that already ended.
type Finished struct{ Status operation.Status }

func (f *Finished) Error() string { return fmt.Sprintf("the operation already ended (%s)", f.Status) }

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
