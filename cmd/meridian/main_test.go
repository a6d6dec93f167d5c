package main

import (
	"path/filepath"
	"testing"
)

// TestCLI runs migrate and the user commands against a file database.
func TestCLI(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "cli.db")
	if err := run([]string{"migrate", "--db", dsn}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run([]string{"user", "list", "--db", dsn}); err != nil {
		t.Fatalf("user list: %v", err)
	}
	if err := run([]string{"user", "approve", "nobody", "--db", dsn}); err == nil {
		t.Fatal("approving a missing user succeeded")
	}
	t.Setenv("MERIDIAN_NEW_PASSWORD", "x")
	if err := run([]string{"user", "passwd", "admin", "--db", dsn}); err == nil {
		t.Fatal("a too-short password was accepted")
	}
	if err := run([]string{"bogus"}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := run([]string{"serve", "--db", "mysql://nope"}); err == nil {
		t.Fatal("an unsupported DSN was accepted")
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://root:hunter2@db:5432/x"); got != "postgres://root:***@db:5432/x" {
		t.Fatal(got)
	}
	if got := redact("sqlite://./meridian.db"); got != "sqlite://./meridian.db" {
		t.Fatal(got)
	}
}
