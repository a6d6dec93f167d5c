package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
)

// Kind is one kind of operation, whose payload is an A and whose result an
// R (both encoded as JSON objects in the operation's row, where GraphQL
// shows them). Declare it once, next to its workflow:
//
//	var Apply = operations.NewKind[ApplyArgs, ApplyResult]("deployment.apply")
//
// then Handle it on the runner and Enqueue it with typed arguments.
type Kind[A, R any] struct {
	name, queue string
}

// NewKind declares a kind. It runs in a queue of its own, named after it,
// unless InQueue names a shared one.
func NewKind[A, R any](name string) Kind[A, R] { return Kind[A, R]{name: name, queue: name} }

// InQueue returns the kind running in the named queue, with the
// concurrency the runner gives that queue (Options.Queues).
func (k Kind[A, R]) InQueue(queue string) Kind[A, R] { k.queue = queue; return k }

// Name is the operation's kind column.
func (k Kind[A, R]) Name() string { return k.name }

// Queue names the queue the kind runs in.
func (k Kind[A, R]) Queue() string { return k.queue }

// Job is a claimed operation with its decoded arguments.
type Job[A any] struct {
	*ent.Operation
	Args A
}

// Checkpoint decodes into v what the last Snooze of this operation kept,
// and reports whether there was one.
func (j *Job[A]) Checkpoint(v any) bool {
	if len(j.Operation.Checkpoint) == 0 {
		return false
	}
	return decode(j.Operation.Checkpoint, v) == nil
}

// Handler carries out a kind.
type Handler[A, R any] struct {
	// Run does the work and returns the result, or an error: retried with
	// backoff up to max_attempts unless Permanent; Snooze reschedules it.
	Run func(ctx context.Context, job *Job[A]) (R, error)
	// Finished, when set, records the final outcome in the domain's rows
	// (a deployment marked failed, say). err is nil on success. It runs in
	// the transaction that ends the operation: use ent.FromContext(ctx).
	Finished func(ctx context.Context, job *Job[A], status operation.Status, err error) error
}

// Handle registers the kind's handler with r. Register every kind before Run.
func (k Kind[A, R]) Handle(r *Runner, h Handler[A, R]) {
	r.register(k.name, k.queue, &typed[A, R]{k: k, h: h})
}

// Create sets the kind and the encoded arguments on c.
func (k Kind[A, R]) Create(c *ent.OperationCreate, args A) (*ent.OperationCreate, error) {
	m, err := encode(args)
	if err != nil {
		return nil, fmt.Errorf("operation %s: encoding the payload: %w", k.name, err)
	}
	return c.SetKind(k.name).SetPayload(m), nil
}

// Enqueue writes a pending operation of this kind with args, in ctx's
// transaction when there is one (see Runner.Enqueue).
func (k Kind[A, R]) Enqueue(ctx context.Context, r *Runner, c *ent.OperationCreate, args A) (*ent.Operation, error) {
	c, err := k.Create(c, args)
	if err != nil {
		return nil, err
	}
	return r.Enqueue(ctx, c)
}

// Args decodes an operation's payload.
func (k Kind[A, R]) Args(op *ent.Operation) (A, error) {
	var a A
	if op.Kind != k.name {
		return a, fmt.Errorf("operation %d is a %s, not a %s", op.ID, op.Kind, k.name)
	}
	if err := decode(op.Payload, &a); err != nil {
		return a, fmt.Errorf("operation %d (%s): decoding the payload: %w", op.ID, k.name, err)
	}
	return a, nil
}

// Result decodes a finished operation's result.
func (k Kind[A, R]) Result(op *ent.Operation) (R, error) {
	var r R
	if op.Kind != k.name {
		return r, fmt.Errorf("operation %d is a %s, not a %s", op.ID, op.Kind, k.name)
	}
	if err := decode(op.Result, &r); err != nil {
		return r, fmt.Errorf("operation %d (%s): decoding the result: %w", op.ID, k.name, err)
	}
	return r, nil
}

// handler is a registered kind, its types erased for the runner.
type handler interface {
	run(ctx context.Context, op *ent.Operation) (map[string]any, error)
	finished(ctx context.Context, op *ent.Operation, status operation.Status, err error) error
}

type typed[A, R any] struct {
	k Kind[A, R]
	h Handler[A, R]
}

func (t *typed[A, R]) run(ctx context.Context, op *ent.Operation) (map[string]any, error) {
	args, err := t.k.Args(op)
	if err != nil {
		return nil, Permanent(err)
	}
	res, err := t.h.Run(ctx, &Job[A]{Operation: op, Args: args})
	if err != nil {
		return nil, err
	}
	m, err := encode(res)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encoding the result: %w", err))
	}
	return m, nil
}

func (t *typed[A, R]) finished(ctx context.Context, op *ent.Operation, status operation.Status, runErr error) error {
	if t.h.Finished == nil {
		return nil
	}
	args, err := t.k.Args(op)
	if err != nil {
		return err
	}
	return t.h.Finished(ctx, &Job[A]{Operation: op, Args: args}, status, runErr)
}

// encode turns v into the JSON object a row keeps (nil for an empty one).
func encode(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%T is not a JSON object", v)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func decode(m map[string]any, v any) error {
	if m == nil {
		m = map[string]any{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// None is the payload or result of a kind that has none.
type None struct{}

type snooze struct {
	after      time.Duration
	checkpoint map[string]any
}

func (s *snooze) Error() string { return fmt.Sprintf("snoozed for %s", s.after) }

// Snooze is what a handler returns to check again later without holding a
// worker: the operation goes back to pending, due after the given time,
// and the attempt does not count. checkpoint (nil for none) is kept for the
// next run, which reads it with Job.Checkpoint; it must encode as a JSON
// object.
func Snooze(after time.Duration, checkpoint any) error {
	s := &snooze{after: after}
	if checkpoint != nil {
		m, err := encode(checkpoint)
		if err != nil {
			return Permanent(fmt.Errorf("encoding the checkpoint: %w", err))
		}
		s.checkpoint = m
	}
	return s
}

func snoozed(err error) (*snooze, bool) {
	var s *snooze
	return s, errors.As(err, &s)
}
