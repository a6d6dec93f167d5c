package operations

import (
	"context"
	"fmt"
	"time"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/operation"
)

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
