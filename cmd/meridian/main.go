// Command meridian is the Meridian control plane.
//
//	meridian serve    [--addr 127.0.0.1:8080] [--db sqlite://./meridian.db] ...
//	meridian migrate  [--db ...]
//	meridian user list|passwd|approve [--db ...] ...
//	meridian version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/db"
	"github.com/meridianplane/meridian/internal/server"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "meridian:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: meridian serve|migrate|user|version [flags]; meridian CMD -h for flags")
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(args)
	case "migrate":
		return migrate(args)
	case "user":
		return userCmd(args)
	case "version", "--version", "-v":
		fmt.Println("meridian", version)
		return nil
	}
	return usage()
}

func parse(name string, args []string) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg, err := config.Flags(fs)
	if err != nil {
		return nil, nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return cfg, fs, nil
}

func logger(format string) *slog.Logger {
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func openMigrated(ctx context.Context, dsn string) (*db.DB, error) {
	d, err := db.Open(dsn, db.Options{})
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func serve(args []string) error {
	cfg, _, err := parse("serve", args)
	if err != nil {
		return err
	}
	log := logger(cfg.LogFormat)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := openMigrated(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	srv, err := server.New(ctx, *cfg, d, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	log.Info("meridian is serving", "version", version, "db", redact(cfg.DB),
		"graphql", base+"/graphql", "playground", base+"/playground", "console", base+"/",
		"otestack", base+"/v1", "openapi", base+"/openapi/otestack.json")
	return srv.Run(ctx, ln)
}

func migrate(args []string) error {
	cfg, _, err := parse("migrate", args)
	if err != nil {
		return err
	}
	d, err := openMigrated(context.Background(), cfg.DB)
	if err != nil {
		return err
	}
	fmt.Println("migrated", redact(cfg.DB))
	return d.Close()
}

// redact hides a DSN's password.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}
