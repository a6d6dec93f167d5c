// Package server assembles Meridian's HTTP server: the GraphQL endpoint and
// playground, the legacy REST APIs, the console, health and metrics.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"entgo.io/ent/dialect"

	"github.com/meridianplane/meridian/ent"
	entcluster "github.com/meridianplane/meridian/ent/cluster"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/graph"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/backend/cluster"
	"github.com/meridianplane/meridian/internal/backend/registry"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/deploy"
	"github.com/meridianplane/meridian/internal/events"
	"github.com/meridianplane/meridian/internal/imagerepo"
	"github.com/meridianplane/meridian/internal/operations"
	"github.com/meridianplane/meridian/internal/paging"
	"github.com/meridianplane/meridian/internal/playground"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/internal/secret"
	"github.com/meridianplane/meridian/internal/viewer"
	"github.com/meridianplane/meridian/rest/otestack"
	"github.com/meridianplane/meridian/web"
)

// Server is a configured Meridian.
type Server struct {
	Config     config.Config
	DB         *db.DB
	Auth       *auth.Service
	Log        *slog.Logger
	Operations *operations.Runner
	Clusters   *cluster.Manager
	Deploy     *deploy.Service
	Repository *imagerepo.Service
	// embedded is the in-memory registry served at /v2/ when no registry
	// is configured.
	embedded http.Handler
	Events   *events.Bus
	handler  http.Handler
	// GraphQL is the /graphql server without its HTTP middleware; REST
	// routes run their operations through it (tests mount their own APIs
	// on it).
	GraphQL http.Handler
	// AdminPassword is set when bootstrap generated the admin's password.
	AdminPassword string

	bg     context.Context // background work: operations, cluster sync
	stop   context.CancelFunc
	once   sync.Once
	worker sync.WaitGroup
}

// New builds a server over an open, migrated database: it bootstraps the
// super-admin on an empty database and assembles the routes.
func New(ctx context.Context, cfg config.Config, database *db.DB, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	authn, err := auth.New(ctx, database.Client, auth.Options{
		Secret: []byte(cfg.JWTSecret), TokenTTL: cfg.TokenTTL, RefreshWindow: cfg.RefreshWindow,
	})
	if err != nil {
		return nil, err
	}
	box, err := secret.Load(cfg.SecretKey, cfg.SecretKeyFile())
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, DB: database, Auth: authn, Log: log}
	database.Client.Intercept(paging.Interceptor()) // REST lists read one page with OFFSET
	s.bg, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.Operations = operations.New(database.Client, database.Dialect, operations.Options{
		Workers: cfg.Workers, Lease: cfg.OperationLease, Backoff: cfg.OperationBackoff, Log: log,
	})
	s.Clusters = cluster.New(s.bg, cluster.Options{
		SimulatorTick: cfg.SimulatorTick, RolloutDeadline: cfg.RolloutDeadline, Health: cfg.ClusterHealth, Log: log,
	})
	s.Deploy = deploy.New(database.Client, database.Dialect, s.Operations, s.Clusters, box, log)
	var regClient *registry.Client
	if cfg.Registry == "" {
		s.embedded = registry.Embedded()
		regClient = registry.InProcess(cfg.Addr, s.embedded)
	} else if regClient, err = registry.New(cfg.Registry, cfg.RegistryUser, cfg.RegistryPassword); err != nil {
		return nil, fmt.Errorf("--registry: %w", err)
	}
	s.Repository = imagerepo.New(database.Client, s.Operations, regClient, box, log)
	s.Deploy.UsePullCredentials(func(ctx context.Context, id int) (*cluster.PullCredential, error) {
		c, err := s.Repository.Credentials(ctx, id)
		if err != nil {
			return nil, err
		}
		return &cluster.PullCredential{Server: c.Server, Username: c.Username, Password: c.Password}, nil
	})
	s.Events = events.New(log)
	if database.Dialect == dialect.Postgres {
		s.Events.UsePostgres(s.bg, cfg.DB)
	}
	s.Operations.OnUpdate(func(op *ent.Operation) {
		s.Events.Publish(events.Operation, op.ID)
		if op.DeploymentID != nil {
			s.Events.Publish(events.Deployment, *op.DeploymentID)
		}
	})
	s.Deploy.OnChange(func(id int) { s.Events.Publish(events.Deployment, id) })
	if err := s.bootstrap(ctx); err != nil {
		s.stop()
		return nil, err
	}
	if cfg.Simulator {
		if err := s.ensureSimulator(ctx); err != nil {
			s.stop()
			return nil, err
		}
	}
	s.handler = s.routes()
	return s, nil
}

// Start begins the background work: the operation workers and the cluster
// connections. Close stops it.
func (s *Server) Start() {
	s.once.Do(func() {
		if s.Config.Workers < 0 { // a replica that only serves requests
			return
		}
		s.Clusters.Start()
		if err := s.Repository.Schedule(s.Config.RegistrySync); err != nil {
			s.Log.Error("registry: scheduling the sync", "err", err)
		}
		s.worker.Add(2)
		go func() { defer s.worker.Done(); s.Operations.Run(s.bg) }()
		go func() { defer s.worker.Done(); s.Clusters.CheckAll(s.bg) }()
	})
}

// Close stops the background work and waits for it; operations still
// running are released for the next start to take over.
func (s *Server) Close() {
	s.stop()
	s.worker.Wait()
	s.Clusters.Wait()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// bootstrap creates the super-admin "admin" on a database without users.
func (s *Server) bootstrap(ctx context.Context) error {
	sys := policy.System(ctx)
	client := s.DB.Client
	n, err := client.User.Query().Count(sys)
	if err != nil || n > 0 {
		return err
	}
	pw := s.Config.AdminPassword
	if pw == "" {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
		s.AdminPassword = pw
	} else if err := auth.CheckPasswordPolicy("MERIDIAN_ADMIN_PASSWORD", pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	tx, err := client.Tx(sys)
	if err != nil {
		return err
	}
	t, err := tx.Tenant.Create().SetName("admin").Save(sys)
	if err == nil {
		err = tx.User.Create().SetTenantID(t.ID).SetUsername("admin").SetPasswordHash(hash).
			SetRole(user.RoleSuperAdmin).SetStatus(user.StatusActive).SetRealName("Administrator").Exec(sys)
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("bootstrap: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if s.AdminPassword != "" {
		s.Log.Warn("created the super-admin 'admin' with a generated password, shown only this once (set MERIDIAN_ADMIN_PASSWORD to choose it)",
			"user", "admin", "password", s.AdminPassword)
	} else {
		s.Log.Info("created the super-admin 'admin' with the password from MERIDIAN_ADMIN_PASSWORD")
	}
	return nil
}

func (s *Server) routes() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)

	gql := newGraphQL(graph.NewSchema(s.DB.Client, s.Auth, s.Deploy, s.Repository, s.Events), s.DB.Client, s.Auth, GraphQLOptions{
		Complexity: s.Config.Complexity, Depth: s.Config.Depth,
		Introspection: s.Config.Introspection, MaxUpload: s.Config.BodyLimit,
	})

	r := chi.NewRouter()
	r.Use(middleware.RequestID, rest.ClientAddress(s.Config.TrustedProxies), m.observe(s.Log), middleware.Recoverer, limitBody(s.Config.BodyLimit))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.DB.Ping(ctx); err != nil {
			rest.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": err.Error()})
			return
		}
		rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Handle("/playground", playground.Handler("/playground", "/graphql"))
	r.Handle("/playground/*", playground.Handler("/playground", "/graphql"))
	r.Get("/openapi/otestack.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(otestack.OpenAPI)
	})

	if s.embedded != nil {
		r.Handle("/v2/*", s.Repository.Guard(s.embedded))
		r.Handle("/v2", http.RedirectHandler("/v2/", http.StatusMovedPermanently))
	}

	r.Group(func(r chi.Router) {
		r.Use(s.Auth.Middleware)
		r.With(rejectLargeBody(s.Config.BodyLimit)).Handle("/graphql", gql)
	})
	s.GraphQL = gql
	for _, api := range []rest.API{otestack.API()} {
		rest.Mount(r, api, gql, s.Auth) // each API authenticates with its declared schemes
	}
	r.Handle("/*", web.Handler())
	return r
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	s.Start()
	defer s.Close()
	go func() { errc <- hs.Serve(ln) }()
	go s.purgeSessions(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// purgeSessions deletes long-ended sessions every hour until ctx ends.
func (s *Server) purgeSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.Auth.PurgeSessions(ctx, time.Now().Add(-24*time.Hour)); err != nil {
			if ctx.Err() == nil {
				s.Log.Error("purging sessions", "err", err)
			}
		} else if n > 0 {
			s.Log.Info("purged ended sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ensureSimulator registers the built-in simulated cluster "local" (three
// nodes) for the admin when no cluster is configured, so that a server can
// deploy at once.
func (s *Server) ensureSimulator(ctx context.Context) error {
	sys := policy.System(ctx)
	n, err := s.DB.Client.Cluster.Query().Where(entcluster.ContainerManagerIDNotNil()).Count(sys)
	if err != nil || n > 0 {
		return err
	}
	u, err := s.DB.Client.User.Query().Where(user.Username("admin")).Only(sys)
	if err != nil {
		return err
	}
	taken, err := s.DB.Client.Cluster.Query().Where(entcluster.TenantID(u.TenantID), entcluster.Name("local")).Exist(sys)
	if err != nil || taken {
		if taken {
			s.Log.Warn("no cluster is configured, and the admin's cluster record 'local' blocks the simulated one")
		}
		return err
	}
	actx := viewer.NewContext(ctx, &viewer.Viewer{UserID: u.ID, Username: u.Username, TenantID: u.TenantID, Role: viewer.RoleSuperAdmin})
	_, _, err = s.Deploy.RegisterCluster(actx, deploy.RegisterInput{Name: "local", Description: "The built-in simulated cluster", Simulator: true})
	if err == nil {
		s.Log.Info("registered the simulated cluster 'local' (3 nodes)")
	}
	return err
}
