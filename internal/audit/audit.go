// Package audit is the admin audit of businesses: a user submits a
// business case, an admin approves or rejects it once. Who may audit is
// the audit rule of internal/viewer (Viewer.MayAudit), which the Business
// privacy policy enforces; deployments are audited by internal/deploy
// under the same rule.
package audit

import (
	"context"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/business"
	"github.com/meridianplane/meridian/internal/apierr"
)

// Business approves or rejects a pending business with an optional
// comment, through db under the caller's privacy (which refuses the write
// to a non-admin). Only a pending business changes: of two concurrent
// audits, one wins and the other is told CONFLICT.
func Business(ctx context.Context, db *ent.Client, id int, status business.Status, comment *string) (*ent.Business, error) {
	b, err := db.Business.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Status != business.StatusPending {
		return nil, apierr.New(apierr.Conflict, "business %d was already audited (%s)", id, b.Status)
	}
	if status != business.StatusApproved && status != business.StatusRejected {
		return nil, apierr.BadInput("status", "an audit approves or rejects")
	}
	upd := db.Business.Update().Where(business.ID(id), business.StatusEQ(business.StatusPending)).SetStatus(status)
	if comment != nil {
		upd.SetComment(*comment)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apierr.New(apierr.Conflict, "business %d was audited meanwhile", id)
	}
	return db.Business.Get(ctx, id)
}
