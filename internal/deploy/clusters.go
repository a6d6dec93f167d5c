package deploy

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/applicationversion"
	"github.com/meridianplane/meridian/ent/containermanager"
	"github.com/meridianplane/meridian/ent/deployment"
	"github.com/meridianplane/meridian/ent/operation"
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
	v, err := auth.Require(ctx)
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
		sealed, err := s.clusters.Box().Seal([]byte(in.Kubeconfig))
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
		sealed, err := s.clusters.Box().Seal([]byte(in.Token))
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
		SetTenantID(m.TenantID).SetContainerManagerID(m.ID).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	op, err := Connect.Enqueue(ctx, s.ops, db.Operation.Create().SetTenantID(m.TenantID).
		SetClusterID(c.ID).SetCreatedBy(v.UserID).SetMaxAttempts(5), ConnectArgs{Cluster: c.ID})
	if err != nil {
		return nil, nil, err
	}
	return c, op, nil
}

// runConnect connects to the cluster (the Manager then syncs its nodes and
// runs reapply).
func (s *Service) runConnect(ctx context.Context, job *operations.Job[ConnectArgs]) (ConnectResult, error) {
	c, err := s.clusters.Conn(ctx, job.Args.Cluster)
	if err != nil {
		return ConnectResult{}, err
	}
	return ConnectResult{KubernetesVersion: c.Version}, nil
}

// reapply puts back, after a (re)connection, the deployments that should be
// running on the cluster: a simulated cluster starts empty, and a real one
// may have drifted while it was away. Server-side apply is idempotent; a
// chart is reinstalled only if its release is missing. Deployments with an
// operation in progress are left to it.
func (s *Service) reapply(ctx context.Context, c *cluster.Conn) {
	ds, err := s.client.Deployment.Query().Where(deployment.ClusterID(c.ClusterID), deployment.StatusEQ(deployment.StatusRunning),
		deployment.Not(deployment.HasOperationsWith(operation.StatusIn(operation.StatusPending, operation.StatusRunning)))).
		WithVersion().WithApplication().WithNode().All(ctx)
	if err != nil {
		s.log.Warn("deploy: listing deployments to re-apply", "cluster", c.ClusterID, "err", err)
		return
	}
	for _, d := range ds {
		ver := d.Edges.Version
		if ver.Kind == applicationversion.KindChart {
			if ok, err := c.HelmReleaseExists(d.Name, d.Namespace); err != nil || ok {
				continue
			}
		}
		if _, _, err := s.apply(ctx, c, d, ver, ApplyArgs{}); err != nil {
			s.log.Warn("deploy: re-applying", "deployment", d.ID, "err", err)
		}
	}
}

// LabelNodes writes a node label change to a connected cluster's nodes (an
// operation); for a cluster that is a record only there is nothing to do.
func (s *Service) LabelNodes(ctx context.Context, cl *ent.Cluster, label string, nodes []string, add bool) (*ent.Operation, error) {
	if cl.ContainerManagerID == nil {
		return nil, nil
	}
	c := s.db(ctx).Operation.Create().SetTenantID(cl.TenantID).SetClusterID(cl.ID)
	if v, err := auth.Require(ctx); err == nil {
		c.SetCreatedBy(v.UserID)
	}
	return NodeLabels.Enqueue(ctx, s.ops, c, NodeLabelsArgs{Cluster: cl.ID, Label: label, Nodes: nodes, Add: add})
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
