// Package db opens Meridian's database from a DSN and migrates it.
//
//	sqlite://./meridian.db     a file (WAL, busy timeout, foreign keys on)
//	sqlite://:memory:          a throwaway in-memory database
//	postgres://user@host/db    PostgreSQL through pgx
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // registers the "sqlite3" driver

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/migrate"
	_ "github.com/meridianplane/meridian/ent/runtime" // privacy policies and hooks
)

// DB is an open database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
}

// Options tune Open.
type Options struct {
	// Trace, when set, sees every SQL statement with its context (tests
	// count the statements of a request).
	Trace func(ctx context.Context, query string)
}

var memSeq atomic.Int64

// Open opens the database a DSN names. It does not migrate.
func Open(dsn string, o Options) (*DB, error) {
	drvName, dial, source, maxConns, err := parse(dsn)
	if err != nil {
		return nil, err
	}
	sqlDB, err := sql.Open(drvName, source)
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	if maxConns > 0 {
		sqlDB.SetMaxOpenConns(maxConns)
	}
	var drv dialect.Driver = entsql.OpenDB(dial, sqlDB)
	if o.Trace != nil {
		drv = dialect.DebugWithContext(drv, func(ctx context.Context, a ...any) {
			if len(a) > 0 {
				o.Trace(ctx, fmt.Sprint(a[0]))
			}
		})
	}
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqlDB, Dialect: dial}, nil
}

// parse maps a DSN onto a database/sql driver and source.
func parse(dsn string) (drv, dial, source string, maxConns int, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path := strings.TrimPrefix(dsn, "sqlite://")
		params := "_fk=1&_busy_timeout=10000&_txlock=immediate"
		if path == ":memory:" || path == "" {
			// One connection: every query sees the same in-memory database.
			return "sqlite3", dialect.SQLite,
				fmt.Sprintf("file:meridian-mem-%d?mode=memory&cache=shared&%s", memSeq.Add(1), params), 1, nil
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			params = params + "&" + path[i+1:]
			path = path[:i]
		}
		return "sqlite3", dialect.SQLite, "file:" + path + "?" + params + "&_journal_mode=WAL", 0, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", "", "", 0, fmt.Errorf("db: bad PostgreSQL DSN: %w", err)
		}
		return "pgx", dialect.Postgres, dsn, 0, nil
	}
	return "", "", "", 0, fmt.Errorf("db: unsupported DSN %q (want sqlite://PATH, sqlite://:memory: or postgres://...)", dsn)
}

// Migrate creates or updates the schema.
func (d *DB) Migrate(ctx context.Context) error {
	if err := d.Client.Schema.Create(ctx, migrate.WithDropIndex(true)); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }
