package deploy

import (
	"context"
	"time"

	"entgo.io/ent/dialect"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/application"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/appspec"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/operations"
)

// DeployInput places a version on a cluster.
type DeployInput struct {
	ApplicationID int
	Version       string
	ClusterID     int
	Name          string
	NodeLabel     string
	NodeID        int
	Comment       string
}

// Deploy creates a deployment (or reuses a deleted one of the same name)
// and enqueues its installation.
func (s *Service) Deploy(ctx context.Context, in DeployInput) (*ent.Deployment, *ent.Operation, error) {
	db := s.db(ctx)
	app, err := db.Application.Query().Where(application.ID(in.ApplicationID)).WithTenant().Only(ctx)
	if err != nil {
		return nil, nil, apierr.NotFoundOr("applicationID", err)
	}
	ver, err := versionOf(ctx, db, app.ID, in.Version)
	if err != nil {
		return nil, nil, err
	}
	cl, err := db.Cluster.Get(ctx, in.ClusterID)
	if err != nil {
		return nil, nil, apierr.NotFoundOr("clusterID", err)
	}
	if cl.TenantID != app.TenantID {
		return nil, nil, apierr.BadInput("clusterID", "the cluster belongs to another tenant than the application")
	}
	if cl.ContainerManagerID == nil {
		return nil, nil, apierr.BadInput("clusterID", "cluster %s is a record only: register it with a kubeconfig, token or the simulator to deploy on it", cl.Name)
	}
	label := in.NodeLabel
	if label == "" {
		label = "all"
	}
	if label != "all" {
		if err := nodelabel.NameValidator(label); err != nil {
			return nil, nil, apierr.BadInput("nodeLabel", "%q is not a label name", label)
		}
		has, err := db.NodeLabel.Query().Where(nodelabel.Name(label), nodelabel.HasNodeWith(node.ClusterID(cl.ID))).Exist(ctx)
		if err != nil {
			return nil, nil, err
		}
		if !has {
			return nil, nil, apierr.BadInput("nodeLabel", "no node of cluster %s has the label %q", cl.Name, label)
		}
	}
	var nodeID *int
	if in.NodeID != 0 {
		n, err := db.Node.Query().Where(node.ID(in.NodeID), node.ClusterID(cl.ID)).Only(ctx)
		if err != nil {
			return nil, nil, apierr.NotFoundOr("nodeID", err)
		}
		nodeID = &n.ID
	}
	ns := cluster.Namespace(app.Edges.Tenant.Name, app.TenantID)
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The audit rule (viewer.AwaitsAudit): a normal user's deployment waits
	// for an admin unless the tenant auto-approves.
	status := deployment.StatusPending
	if v.AwaitsAudit(app.Edges.Tenant.EnableAdminAutoDeploy) {
		status = deployment.StatusAwaitingAudit
	}
	existing, err := db.Deployment.Query().Where(deployment.ClusterID(cl.ID), deployment.Namespace(ns), deployment.Name(in.Name)).Only(ctx)
	var d *ent.Deployment
	switch {
	case ent.IsNotFound(err):
		c := db.Deployment.Create().SetName(in.Name).SetApplicationID(app.ID).SetVersionID(ver.ID).
			SetClusterID(cl.ID).SetNamespace(ns).SetNodeLabel(label).SetComment(in.Comment).SetNillableNodeID(nodeID).
			SetStatus(status)
		if d, err = c.Save(ctx); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	case existing.Status != deployment.StatusDeleted && existing.Status != deployment.StatusRejected:
		return nil, nil, apierr.For(apierr.Conflict, "name", "a deployment named %s already runs on cluster %s", in.Name, cl.Name)
	case existing.ApplicationID != app.ID:
		return nil, nil, apierr.For(apierr.Conflict, "name", "the name %s was used by another application's deployment on cluster %s", in.Name, cl.Name)
	default:
		upd := db.Deployment.UpdateOne(existing).SetVersionID(ver.ID).SetNodeLabel(label).SetComment(in.Comment).
			SetStatus(status).SetMessage("").SetAction(deployment.ActionInstall)
		if nodeID != nil {
			upd.SetNodeID(*nodeID)
		} else {
			upd.ClearNodeID()
		}
		if d, err = upd.Save(ctx); err != nil {
			return nil, nil, err
		}
	}
	if status == deployment.StatusAwaitingAudit {
		return d, nil, nil
	}
	op, err := s.enqueueApply(ctx, d, deploymentrevision.ActionInstall, nil, ver.ID, 0)
	return d, op, err
}

// Audit approves or rejects a deployment waiting for audit (admins only:
// see policy.DeploymentAudit). An approved deployment is installed; a
// rejected one never touches the cluster. Only admins may: the write is
// refused by the Deployment's privacy policy otherwise.
func (s *Service) Audit(ctx context.Context, id int, approve bool, comment string) (*ent.Deployment, *ent.Operation, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.idle(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if d.Status != deployment.StatusAwaitingAudit {
		return nil, nil, apierr.For(apierr.Conflict, "id", "deployment %s is not waiting for audit (it is %s)", d.Name, d.Status)
	}
	upd := s.db(ctx).Deployment.UpdateOne(d).SetAuditComment(comment).SetAuditedBy(v.UserID)
	if !approve {
		d, err = upd.SetStatus(deployment.StatusRejected).Save(ctx)
		return d, nil, err
	}
	if d, err = upd.SetStatus(deployment.StatusPending).Save(ctx); err != nil {
		return nil, nil, err
	}
	op, err := s.enqueueApply(ctx, d, deploymentrevision.ActionInstall, nil, d.VersionID, 0)
	return d, op, err
}

// Upgrade moves a deployment to another version.
func (s *Service) Upgrade(ctx context.Context, id int, version, comment string) (*ent.Deployment, *ent.Operation, error) {
	d, err := s.live(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ver, err := s.sameKind(ctx, d, version)
	if err != nil {
		return nil, nil, err
	}
	if ver.ID == d.VersionID && d.Status == deployment.StatusRunning {
		return nil, nil, apierr.BadInput("version", "the deployment already runs %s", version)
	}
	if comment != "" {
		if d, err = s.db(ctx).Deployment.UpdateOne(d).SetComment(comment).Save(ctx); err != nil {
			return nil, nil, err
		}
	}
	op, err := s.enqueueApply(ctx, d, deploymentrevision.ActionUpgrade, &d.VersionID, ver.ID, 0)
	return d, op, err
}

// Rollback returns a deployment to a version it ran before.
func (s *Service) Rollback(ctx context.Context, id int, version, comment string) (*ent.Deployment, *ent.Operation, error) {
	d, err := s.live(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	db := s.db(ctx)
	ver, err := s.sameKind(ctx, d, version)
	if err != nil {
		return nil, nil, err
	}
	ran, err := db.DeploymentRevision.Query().Where(deploymentrevision.DeploymentID(d.ID),
		deploymentrevision.ToVersionID(ver.ID), deploymentrevision.ResultEQ(deploymentrevision.ResultSucceeded)).Exist(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !ran {
		return nil, nil, apierr.BadInput("version", "deployment %s never ran version %s", d.Name, version)
	}
	if comment != "" {
		if d, err = db.Deployment.UpdateOne(d).SetComment(comment).Save(ctx); err != nil {
			return nil, nil, err
		}
	}
	op, err := s.enqueueApply(ctx, d, deploymentrevision.ActionRollback, &d.VersionID, ver.ID, 0)
	return d, op, err
}

// Scale sets the replicas of a deployment's workload.
func (s *Service) Scale(ctx context.Context, workloadID, replicas int) (*ent.Deployment, *ent.Operation, error) {
	db := s.db(ctx)
	w, err := db.Workload.Get(ctx, workloadID)
	if err != nil {
		return nil, nil, apierr.NotFoundOr("id", err)
	}
	d, err := s.live(ctx, w.DeploymentID)
	if err != nil {
		return nil, nil, err
	}
	ver, err := db.ApplicationVersion.Get(ctx, d.VersionID)
	if err != nil {
		return nil, nil, err
	}
	spec := ver.Spec
	if ver.Kind == applicationversion.KindChart {
		return nil, nil, apierr.BadInput("id", "a chart's replicas come from its values: upgrade to a version with other values")
	}
	if w.Kind == workload.KindDaemonSet || spec == nil || spec.DeployType != appspec.Deployment {
		return nil, nil, apierr.BadInput("id", "a daemonset runs one pod per node and cannot be scaled")
	}
	if replicas < 1 || replicas > appspec.MaxReplicasLimit {
		return nil, nil, apierr.BadInput("replicas", "must be 1 to %d", appspec.MaxReplicasLimit)
	}
	if spec.MaxReplicas > 0 && replicas > spec.MaxReplicas {
		return nil, nil, apierr.BadInput("replicas", "must not exceed the version's maxReplicas (%d)", spec.MaxReplicas)
	}
	if spec.MinReplicas > 0 && replicas < spec.MinReplicas {
		return nil, nil, apierr.BadInput("replicas", "must be at least the version's minReplicas (%d)", spec.MinReplicas)
	}
	op, err := enqueue(ctx, s, d, Apply, ApplyArgs{Replicas: replicas, Version: d.VersionID})
	return d, op, err
}

// Delete removes a deployment from its cluster.
func (s *Service) Delete(ctx context.Context, id int) (*ent.Deployment, *ent.Operation, error) {
	d, err := s.idle(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if d.Status == deployment.StatusDeleted {
		return nil, nil, apierr.New(apierr.Conflict, "deployment %s is already deleted", d.Name)
	}
	db := s.db(ctx)
	rev, err := s.revision(ctx, d, deploymentrevision.ActionDelete, &d.VersionID, nil)
	if err != nil {
		return nil, nil, err
	}
	if d.Status == deployment.StatusAwaitingAudit || d.Status == deployment.StatusRejected {
		// It never touched the cluster: nothing to remove there.
		if err := db.DeploymentRevision.UpdateOne(rev).SetResult(deploymentrevision.ResultSucceeded).SetFinishedAt(time.Now()).Exec(ctx); err != nil {
			return nil, nil, err
		}
		d, err = db.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeleted).Save(ctx)
		return d, nil, err
	}
	if d, err = db.Deployment.UpdateOne(d).SetStatus(deployment.StatusDeleting).Save(ctx); err != nil {
		return nil, nil, err
	}
	op, err := enqueue(ctx, s, d, Delete, DeleteArgs{Revision: rev.ID})
	return d, op, err
}

// DeleteByNodeLabel deletes the cluster's deployments placed by a node
// label (OTE-Stack's deleteDeploy), each in its own operation.
func (s *Service) DeleteByNodeLabel(ctx context.Context, clusterID int, label string) error {
	ids, err := s.db(ctx).Deployment.Query().Where(deployment.ClusterID(clusterID), deployment.NodeLabel(label),
		deployment.StatusNotIn(deployment.StatusDeleted, deployment.StatusDeleting)).IDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, _, err := s.Delete(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// live is idle for a deployment that must not be deleted.
func (s *Service) live(ctx context.Context, id int) (*ent.Deployment, error) {
	d, err := s.idle(ctx, id)
	if err == nil && d.Status == deployment.StatusDeleted {
		return nil, apierr.New(apierr.Conflict, "deployment %s is deleted; deploy it again", d.Name)
	}
	if err == nil && (d.Status == deployment.StatusAwaitingAudit || d.Status == deployment.StatusRejected) {
		return nil, apierr.New(apierr.Conflict, "deployment %s is %s: it has not run", d.Name, d.Status)
	}
	return d, err
}

// sameKind finds the version to move a deployment to: it must be of the
// deployment's kind (workload or chart), since the two are put on the
// cluster differently.
func (s *Service) sameKind(ctx context.Context, d *ent.Deployment, version string) (*ent.ApplicationVersion, error) {
	db := s.db(ctx)
	ver, err := versionOf(ctx, db, d.ApplicationID, version)
	if err != nil {
		return nil, err
	}
	cur, err := db.ApplicationVersion.Get(ctx, d.VersionID)
	if err != nil {
		return nil, err
	}
	if cur.Kind != ver.Kind {
		return nil, apierr.BadInput("version", "version %s is a %s and the deployment runs a %s: delete it and deploy the new version", version, ver.Kind, cur.Kind)
	}
	return ver, nil
}

// idle loads a deployment that has no operation in progress, locking its
// row for the request's transaction so that two requests cannot both start
// one (on SQLite the transaction holds the database's write lock already).
func (s *Service) idle(ctx context.Context, id int) (*ent.Deployment, error) {
	db := s.db(ctx)
	q := db.Deployment.Query().Where(deployment.ID(id))
	if s.dialect == dialect.Postgres && ent.TxFromContext(ctx) != nil {
		q.ForUpdate()
	}
	d, err := q.Only(ctx)
	if err != nil {
		return nil, apierr.NotFoundOr("id", err)
	}
	busy, err := db.Operation.Query().Where(operation.DeploymentID(id),
		operation.StatusIn(operation.StatusPending, operation.StatusRunning)).First(ctx)
	if err == nil {
		return nil, apierr.New(apierr.Conflict, "deployment %s has operation %d in progress (%s); wait for it or cancel it", d.Name, busy.ID, busy.Status)
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	return d, nil
}

func (s *Service) revision(ctx context.Context, d *ent.Deployment, action deploymentrevision.Action, from *int, to *int) (*ent.DeploymentRevision, error) {
	db := s.db(ctx)
	n, err := db.DeploymentRevision.Query().Where(deploymentrevision.DeploymentID(d.ID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.Deployment.UpdateOneID(d.ID).SetAction(deployment.Action(action)).Exec(ctx); err != nil {
		return nil, err
	}
	return db.DeploymentRevision.Create().SetDeploymentID(d.ID).SetRevision(n + 1).SetAction(action).
		SetNillableFromVersionID(from).SetNillableToVersionID(to).Save(ctx)
}

func (s *Service) enqueueApply(ctx context.Context, d *ent.Deployment, action deploymentrevision.Action, from *int, to int, replicas int) (*ent.Operation, error) {
	rev, err := s.revision(ctx, d, action, from, &to)
	if err != nil {
		return nil, err
	}
	return enqueue(ctx, s, d, Apply, ApplyArgs{Revision: rev.ID, Version: to, Replicas: replicas, Action: string(action)})
}

func enqueue[A, R any](ctx context.Context, s *Service, d *ent.Deployment, kind operations.Kind[A, R], args A) (*ent.Operation, error) {
	return kind.Enqueue(ctx, s.ops, s.db(ctx).Operation.Create().SetDeploymentID(d.ID).SetClusterID(d.ClusterID), args)
}
