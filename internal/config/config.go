// Package config reads Meridian's runtime configuration from flags and the
// environment (a flag wins over its variable).
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything `meridian serve` is told.
type Config struct {
	Addr             string        // --addr, MERIDIAN_ADDR
	DB               string        // --db, MERIDIAN_DB
	AdminPassword    string        // MERIDIAN_ADMIN_PASSWORD (bootstrap only)
	JWTSecret        string        // MERIDIAN_JWT_SECRET
	TokenTTL         time.Duration // --token-ttl, MERIDIAN_TOKEN_TTL
	RefreshWindow    time.Duration // --refresh-window, MERIDIAN_REFRESH_WINDOW
	BodyLimit        int64         // --body-limit, MERIDIAN_BODY_LIMIT (bytes)
	Complexity       int           // --complexity-limit, MERIDIAN_COMPLEXITY_LIMIT
	Depth            int           // --depth-limit, MERIDIAN_DEPTH_LIMIT
	Introspection    bool          // --introspection, MERIDIAN_INTROSPECTION
	LogFormat        string        // --log-format, MERIDIAN_LOG_FORMAT: text or json
	SecretKey        string        // MERIDIAN_SECRET_KEY: seals backend credentials
	Simulator        bool          // --simulator, MERIDIAN_SIMULATOR: register the simulated cluster "local" on an empty database
	Workers          int           // --workers, MERIDIAN_WORKERS: concurrent operations
	OperationLease   time.Duration // --operation-lease: how long a worker's claim lasts without a heartbeat
	OperationBackoff time.Duration // first retry delay of a failed operation attempt (doubling)
	ClusterHealth    time.Duration // how often clusters are checked
	RolloutDeadline  time.Duration // --rollout-deadline, MERIDIAN_ROLLOUT_DEADLINE: how long a rollout may take
	SimulatorTick    time.Duration // step of the simulated clusters (tests speed it up)
	Registry         string        // --registry, MERIDIAN_REGISTRY: the OCI registry (host:port or URL); empty serves the embedded one at /v2/
	RegistryUser     string        // --registry-user, MERIDIAN_REGISTRY_USER
	RegistryPassword string        // MERIDIAN_REGISTRY_PASSWORD
	RegistrySync     time.Duration // --registry-sync, MERIDIAN_REGISTRY_SYNC: how often projects, images and tags are synced with the registry (0: only on demand)
	// TrustedProxies (--trusted-proxies, MERIDIAN_TRUSTED_PROXIES: comma-separated
	// addresses or CIDRs) are the reverse proxies whose X-Forwarded-For names the
	// client; from anyone else the header is ignored. Empty: the connection's peer
	// is the client.
	TrustedProxies []netip.Prefix
}

// ParsePrefixes reads comma-separated IP addresses and CIDRs.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// SecretKeyFile is where the generated secret key is kept when
// MERIDIAN_SECRET_KEY is unset: beside a SQLite file, in the working
// directory for PostgreSQL, nowhere (ephemeral) for an in-memory database.
func (c Config) SecretKeyFile() string {
	switch {
	case strings.HasPrefix(c.DB, "sqlite://"):
		path := strings.TrimPrefix(c.DB, "sqlite://")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" || path == ":memory:" {
			return ""
		}
		return path + ".key"
	}
	return "meridian.key"
}

// Defaults.
const (
	DefaultAddr       = "127.0.0.1:8080"
	DefaultDB         = "sqlite://./meridian.db"
	DefaultBodyLimit  = 32 << 20
	DefaultComplexity = 50000
	DefaultDepth      = 15
)

// Default returns the configuration with every default and no environment.
func Default() Config {
	return Config{
		Addr: DefaultAddr, DB: DefaultDB, TokenTTL: time.Hour, RefreshWindow: 5 * time.Hour,
		BodyLimit: DefaultBodyLimit, Complexity: DefaultComplexity, Depth: DefaultDepth,
		Introspection: true, LogFormat: "text", Simulator: true, Workers: 4,
		OperationLease: 30 * time.Second, RolloutDeadline: 5 * time.Minute, OperationBackoff: 2 * time.Second,
		RegistrySync:  time.Minute,
		ClusterHealth: 15 * time.Second,
	}
}

// Flags registers the serve flags on fs, with defaults taken from the
// environment, and returns the Config they fill.
func Flags(fs *flag.FlagSet) (*Config, error) {
	c := Default()
	var err error
	env := func(name string, set func(string) error) {
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	}
	env("MERIDIAN_ADDR", func(v string) error { c.Addr = v; return nil })
	env("MERIDIAN_DB", func(v string) error { c.DB = v; return nil })
	env("MERIDIAN_TOKEN_TTL", durationInto(&c.TokenTTL))
	env("MERIDIAN_REFRESH_WINDOW", durationInto(&c.RefreshWindow))
	env("MERIDIAN_BODY_LIMIT", func(v string) (e error) { c.BodyLimit, e = strconv.ParseInt(v, 10, 64); return })
	env("MERIDIAN_COMPLEXITY_LIMIT", func(v string) (e error) { c.Complexity, e = strconv.Atoi(v); return })
	env("MERIDIAN_DEPTH_LIMIT", func(v string) (e error) { c.Depth, e = strconv.Atoi(v); return })
	env("MERIDIAN_INTROSPECTION", func(v string) (e error) { c.Introspection, e = strconv.ParseBool(v); return })
	env("MERIDIAN_LOG_FORMAT", func(v string) error { c.LogFormat = v; return nil })
	env("MERIDIAN_SIMULATOR", func(v string) (e error) { c.Simulator, e = strconv.ParseBool(v); return })
	env("MERIDIAN_WORKERS", func(v string) (e error) { c.Workers, e = strconv.Atoi(v); return })
	env("MERIDIAN_ROLLOUT_DEADLINE", durationInto(&c.RolloutDeadline))
	env("MERIDIAN_REGISTRY", func(v string) error { c.Registry = v; return nil })
	env("MERIDIAN_REGISTRY_USER", func(v string) error { c.RegistryUser = v; return nil })
	env("MERIDIAN_REGISTRY_PASSWORD", func(v string) error { c.RegistryPassword = v; return nil })
	env("MERIDIAN_REGISTRY_SYNC", durationInto(&c.RegistrySync))
	env("MERIDIAN_TRUSTED_PROXIES", func(v string) (e error) { c.TrustedProxies, e = ParsePrefixes(v); return })
	c.AdminPassword = os.Getenv("MERIDIAN_ADMIN_PASSWORD")
	c.SecretKey = os.Getenv("MERIDIAN_SECRET_KEY")
	c.JWTSecret = os.Getenv("MERIDIAN_JWT_SECRET")

	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (MERIDIAN_ADDR)")
	fs.StringVar(&c.DB, "db", c.DB, "database: sqlite://PATH, sqlite://:memory: or postgres://... (MERIDIAN_DB)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "lifetime of an issued token (MERIDIAN_TOKEN_TTL)")
	fs.DurationVar(&c.RefreshWindow, "refresh-window", c.RefreshWindow, "how long after issue a token can be refreshed (MERIDIAN_REFRESH_WINDOW)")
	fs.Int64Var(&c.BodyLimit, "body-limit", c.BodyLimit, "largest request body in bytes (MERIDIAN_BODY_LIMIT)")
	fs.IntVar(&c.Complexity, "complexity-limit", c.Complexity, "largest GraphQL query complexity (MERIDIAN_COMPLEXITY_LIMIT)")
	fs.IntVar(&c.Depth, "depth-limit", c.Depth, "deepest GraphQL selection (MERIDIAN_DEPTH_LIMIT)")
	fs.BoolVar(&c.Introspection, "introspection", c.Introspection, "allow GraphQL introspection (MERIDIAN_INTROSPECTION)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (MERIDIAN_LOG_FORMAT)")
	fs.BoolVar(&c.Simulator, "simulator", c.Simulator, "register the simulated cluster 'local' on an empty database (MERIDIAN_SIMULATOR)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "operations carried out at once (MERIDIAN_WORKERS)")
	fs.DurationVar(&c.OperationLease, "operation-lease", c.OperationLease, "how long a worker's claim on an operation lasts without a heartbeat")
	fs.DurationVar(&c.RolloutDeadline, "rollout-deadline", c.RolloutDeadline, "how long a rollout may take before it fails (MERIDIAN_ROLLOUT_DEADLINE)")
	fs.StringVar(&c.Registry, "registry", c.Registry, "the OCI registry images live in, host:port or URL (MERIDIAN_REGISTRY; empty: the embedded registry at /v2/)")
	fs.StringVar(&c.RegistryUser, "registry-user", c.RegistryUser, "user Meridian signs in to the registry as (MERIDIAN_REGISTRY_USER; password in MERIDIAN_REGISTRY_PASSWORD)")
	fs.DurationVar(&c.RegistrySync, "registry-sync", c.RegistrySync, "how often images and tags are synced from the registry, 0 for on demand only (MERIDIAN_REGISTRY_SYNC)")
	fs.Func("trusted-proxies", "reverse proxies whose X-Forwarded-For names the client, comma-separated addresses or CIDRs (MERIDIAN_TRUSTED_PROXIES; empty: the connection's peer is the client)",
		func(v string) (e error) { c.TrustedProxies, e = ParsePrefixes(v); return })
	return &c, err
}

func durationInto(d *time.Duration) func(string) error {
	return func(v string) (e error) { *d, e = time.ParseDuration(v); return }
}
