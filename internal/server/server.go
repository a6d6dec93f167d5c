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
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/graph"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/playground"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/rest"
	"github.com/meridianplane/meridian/rest/otestack"
	"github.com/meridianplane/meridian/web"
)

// Server is a configured Meridian.
type Server struct {
	Config  config.Config
	DB      *db.DB
	Auth    *auth.Service
	Log     *slog.Logger
	handler http.Handler
	// AdminPassword is set when bootstrap generated the admin's password.
	AdminPassword string
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
	s := &Server{Config: cfg, DB: database, Auth: authn, Log: log}
	if err := s.bootstrap(ctx); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
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

	gql := newGraphQL(graph.NewSchema(s.DB.Client, s.Auth), s.DB.Client, GraphQLOptions{
		Complexity: s.Config.Complexity, Depth: s.Config.Depth,
		Introspection: s.Config.Introspection, MaxUpload: s.Config.BodyLimit,
	})

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.RealIP, m.observe(s.Log), middleware.Recoverer, limitBody(s.Config.BodyLimit))
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

	r.Group(func(r chi.Router) {
		r.Use(s.Auth.Middleware)
		r.With(rejectLargeBody(s.Config.BodyLimit)).Handle("/graphql", gql)
		rest.Mount(r, otestack.API(), gql)
	})
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
