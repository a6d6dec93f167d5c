package deploy

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/clusterlabel"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/deploymentrevision"
	"github.com/meridianplane/meridian/ent/node"
	"github.com/meridianplane/meridian/ent/nodelabel"
	"github.com/meridianplane/meridian/ent/operation"
	"github.com/meridianplane/meridian/ent/workload"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/operations"
)

// RegisterInput says how to reach a new cluster: a kubeconfig, an API
// server with a token, or the built-in simulator.
type RegisterInput struct {
	Name, Description        string
	Kubeconfig               string
	APIServer, Token, CACert string
	InsecureSkipTLSVerify    bool
	Simulator                bool
	TenantID                 int // admins may register for another tenant; 0 = the caller's
}

// RegisterCluster stores the cluster and its container manager (credentials
// sealed) and enqueues the connection.
func (s *Service) RegisterCluster(ctx context.Context, in RegisterInput) (*ent.Cluster, *ent.Operation, error) {
	_, err := auth.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	db := s.db(ctx)
	cm := db.ContainerManager.Create().SetName(in.Name)
	ways := 0
	if in.Simulator {
		ways++
		cm.SetKind(containermanager.KindSimulator)
	}
	if strings.TrimSpace(in.Kubeconfig) != "" {
		ways++
		if err := cluster.CheckKubeconfig([]byte(in.Kubeconfig)); err != nil {
			return nil, nil, apierr.BadInput("kubeconfig", "not a usable kubeconfig: %s", err.Error())
		}
		sealed, err := s.box.Seal([]byte(in.Kubeconfig))
		if err != nil {
			return nil, nil, err
		}
		cm.SetKind(containermanager.KindKubeconfig).SetKubeconfigSealed(sealed)
	}
	if in.APIServer != "" || in.Token != "" {
		ways++
		u, err := url.Parse(in.APIServer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, nil, apierr.BadInput("apiServer", "must be an http(s) URL")
		}
		if in.Token == "" {
			return nil, nil, apierr.BadInput("token", "is required with apiServer")
		}
		if in.CACert != "" {
			if in.InsecureSkipTLSVerify {
				return nil, nil, apierr.BadInput("insecureSkipTLSVerify", "give a CA or skip verification, not both")
			}
			if !x509.NewCertPool().AppendCertsFromPEM([]byte(in.CACert)) {
				return nil, nil, apierr.BadInput("caCert", "is not a PEM certificate")
			}
		}
		sealed, err := s.box.Seal([]byte(in.Token))
		if err != nil {
			return nil, nil, err
		}
		cm.SetKind(containermanager.KindToken).SetAPIServer(in.APIServer).SetTokenSealed(sealed).
			SetCaCert(in.CACert).SetInsecureSkipTLSVerify(in.InsecureSkipTLSVerify)
	}
	if ways != 1 {
		return nil, nil, apierr.BadInput("kubeconfig", "give exactly one of kubeconfig, apiServer with token, or simulator")
	}
	m, err := cm.Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := db.Cluster.Create().SetName(in.Name).SetDescription(in.Description).
		SetContainerManagerID(m.ID).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	op, err := Connect.Enqueue(ctx, s.ops, db.Operation.Create().SetClusterID(c.ID).SetMaxAttempts(5), ConnectArgs{Cluster: c.ID})
	if err != nil {
		return nil, nil, err
	}
	return c, op, nil
}

// LabelNodes writes a node label change to a connected cluster's nodes (an
// operation); for a cluster that is a record only there is nothing to do.
func (s *Service) LabelNodes(ctx context.Context, cl *ent.Cluster, label string, nodes []string, add bool) (*ent.Operation, error) {
	if cl.ContainerManagerID == nil {
		return nil, nil
	}
	return NodeLabels.Enqueue(ctx, s.ops, s.db(ctx).Operation.Create().SetClusterID(cl.ID),
		NodeLabelsArgs{Cluster: cl.ID, Label: label, Nodes: nodes, Add: add})
}

func (s *Service) runNodeLabels(ctx context.Context, job *operations.Job[NodeLabelsArgs]) (operations.None, error) {
	c, err := s.clusters.Conn(ctx, job.Args.Cluster)
	if err != nil {
		return operations.None{}, err
	}
	return operations.None{}, c.LabelNodes(ctx, job.Args.Label, job.Args.Nodes, job.Args.Add)
}

// Forget disconnects from a cluster once ctx's transaction (which deletes
// it) commits.
func (s *Service) Forget(ctx context.Context, clusterID int) {
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		s.clusters.Disconnect(clusterID)
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.clusters.Disconnect(clusterID)
			}
			return err
		})
	})
}

// DeleteCluster deletes a cluster with its nodes, labels, how it is reached
// and the history of its deleted deployments; Meridian disconnects from it
// once ctx's transaction commits. A cluster still running deployments is
// refused. Privacy decides on each delete.
func (s *Service) DeleteCluster(ctx context.Context, id int) error {
	db := s.db(ctx)
	cl, err := db.Cluster.Get(ctx, id)
	if err != nil {
		return err
	}
	live, err := db.Deployment.Query().Where(deployment.ClusterID(id), deployment.StatusNEQ(deployment.StatusDeleted)).Count(ctx)
	if err != nil {
		return err
	}
	if live > 0 {
		return apierr.New(apierr.Conflict, "cluster %s still has %d deployment(s); delete them first", cl.Name, live)
	}
	gone := deployment.ClusterID(id)
	if _, err := db.Workload.Delete().Where(workload.HasDeploymentWith(gone)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.DeploymentRevision.Delete().Where(deploymentrevision.HasDeploymentWith(gone)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Operation.Delete().Where(operation.Or(operation.ClusterID(id), operation.HasDeploymentWith(gone))).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Deployment.Delete().Where(gone).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.NodeLabel.Delete().Where(nodelabel.HasNodeWith(node.ClusterID(id))).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.Node.Delete().Where(node.ClusterID(id)).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.ClusterLabel.Delete().Where(clusterlabel.ClusterID(id)).Exec(ctx); err != nil {
		return err
	}
	if err := db.Cluster.DeleteOneID(id).Exec(ctx); err != nil {
		return err
	}
	if cl.ContainerManagerID != nil {
		if err := db.ContainerManager.DeleteOneID(*cl.ContainerManagerID).Exec(ctx); err != nil {
			return err
		}
		s.Forget(ctx, id)
	}
	return nil
}
