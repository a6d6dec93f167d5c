package operations

import (
	"context"
	"fmt"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/tenant"
)

// periodic is a kind that runs on a schedule.
type periodic struct {
	every   time.Duration
	payload map[string]any
}

// Every makes the kind run every interval with args, once across all the
// runners on the database: the kind has one Operation row (its unique_key
// "periodic:<kind>"), which a runner claims like any other; when a run
// ends it is armed again (pending, due an interval later), keeping the last
// run's finish time, result and error. Call it before Run, on every replica;
// every <= 0 does nothing. The row belongs to the first tenant (the
// super-admin's), so admins see it.
func (k Kind[A, R]) Every(r *Runner, every time.Duration, args A) error {
	if every <= 0 {
		return nil
	}
	if _, ok := r.handlers[k.name]; !ok {
		return fmt.Errorf("operations: periodic kind %q has no handler", k.name)
	}
	m, err := encode(args)
	if err != nil {
		return fmt.Errorf("operation %s: encoding the payload: %w", k.name, err)
	}
	r.periodic[k.name] = periodic{every: every, payload: m}
	return nil
}

func periodicKey(kind string) string { return "periodic:" + kind }

// armPeriodic makes sure each periodic kind has its row, pending: made on
// the first start, armed again when a user cancelled it, and brought
// forward when the interval was shortened.
func (r *Runner) armPeriodic(ctx context.Context) {
	for kind, p := range r.periodic {
		if err := r.armOne(sys(ctx), kind, p); err != nil && ctx.Err() == nil {
			r.log.Error("operations: arming a periodic operation", "kind", kind, "err", err)
		}
	}
}

func (r *Runner) armOne(ctx context.Context, kind string, p periodic) error {
	key := periodicKey(kind)
	now := time.Now()
	op, err := r.client.Operation.Query().Where(operation.UniqueKey(key)).Only(ctx)
	if ent.IsNotFound(err) {
		tid, err := r.client.Tenant.Query().Order(ent.Asc(tenant.FieldID)).FirstID(ctx)
		if err != nil {
			return fmt.Errorf("no tenant to own it: %w", err)
		}
		_, err = r.client.Operation.Create().SetTenantID(tid).SetKind(kind).SetUniqueKey(key).
			SetPayload(p.payload).SetRunAfter(now).Save(ctx)
		if ent.IsConstraintError(err) {
			return nil // another replica made it first
		}
		if err == nil {
			r.Wake()
		}
		return err
	}
	if err != nil {
		return err
	}
	upd := r.client.Operation.Update().Where(operation.ID(op.ID), operation.StatusEQ(op.Status))
	switch op.Status {
	case operation.StatusSucceeded, operation.StatusFailed, operation.StatusCancelled:
		upd.SetStatus(operation.StatusPending).SetRunAfter(now).SetAttempts(0).SetCancelRequested(false).ClearCheckpoint()
	case operation.StatusPending:
		if !op.RunAfter.After(now.Add(p.every)) {
			return nil
		}
		upd.SetRunAfter(now.Add(p.every))
	default:
		return nil
	}
	if _, err := upd.Save(ctx); err != nil {
		return err
	}
	r.Wake()
	return nil
}

// rearm, in the transaction that ended a run of a periodic kind, makes its
// row pending again, due an interval later. It returns the row and the
// interval (0 for an operation that is not periodic).
func (r *Runner) rearm(ctx context.Context, client *ent.Client, op *ent.Operation) (*ent.Operation, time.Duration, error) {
	p, ok := r.periodic[op.Kind]
	if !ok || op.UniqueKey == nil || *op.UniqueKey != periodicKey(op.Kind) {
		return op, 0, nil
	}
	op, err := client.Operation.UpdateOne(op).SetStatus(operation.StatusPending).SetRunAfter(time.Now().Add(p.every)).
		SetAttempts(0).SetCancelRequested(false).ClearCheckpoint().Save(ctx)
	return op, p.every, err
}
