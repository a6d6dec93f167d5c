package auth

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/enttest"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/viewer"

	_ "github.com/meridianplane/meridian/ent/runtime"
)

// basicFixture is a Service over an in-memory database with one active user
// "carol" (password "secret1"), a clock the test moves, and a count of
// bcrypt comparisons.
type basicFixture struct {
	s      *Service
	client *ent.Client
	ctx    context.Context
	now    time.Time
	bcrypt atomic.Int64
	carol  int
}

var dbSeq atomic.Int64

func newBasicFixture(t *testing.T) *basicFixture {
	f := &basicFixture{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ctx: policy.System(context.Background())}
	f.client = enttest.Open(t, "sqlite3", fmt.Sprintf("file:basic%d?mode=memory&cache=shared&_fk=1", dbSeq.Add(1)))
	t.Cleanup(func() { f.client.Close() })
	orig := compareHash
	compareHash = func(h, p []byte) error { f.bcrypt.Add(1); return orig(h, p) }
	t.Cleanup(func() { compareHash = orig })
	s, err := New(f.ctx, f.client, Options{Secret: []byte("k"), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	tn := f.client.Tenant.Create().SetName("carol").SaveX(f.ctx)
	hash, err := HashPassword("secret1")
	if err != nil {
		t.Fatal(err)
	}
	f.carol = f.client.User.Create().SetTenantID(tn.ID).SetUsername("carol").SetPasswordHash(hash).
		SetRole(user.RoleNormal).SetStatus(user.StatusActive).SaveX(f.ctx).ID
	return f
}

// basic authenticates and returns the bcrypt comparisons it took.
func (f *basicFixture) basic(t *testing.T, pw string, wantOK bool) int64 {
	t.Helper()
	before := f.bcrypt.Load()
	v, err := f.s.AuthenticateBasic(context.Background(), "carol", pw)
	if wantOK && (err != nil || v == nil || v.UserID != f.carol) {
		t.Fatalf("basic(%q) = %v, %v; want carol", pw, v, err)
	}
	if !wantOK && err == nil {
		t.Fatalf("basic(%q) accepted", pw)
	}
	return f.bcrypt.Load() - before
}

func TestBasicCacheSkipsBcrypt(t *testing.T) {
	f := newBasicFixture(t)
	if n := f.basic(t, "secret1", true); n != 1 {
		t.Fatalf("first request: %d bcrypt comparisons, want 1", n)
	}
	for i := 0; i < 3; i++ {
		if n := f.basic(t, "secret1", true); n != 0 {
			t.Fatalf("repeated request %d: %d bcrypt comparisons, want 0", i, n)
		}
	}
	if len(f.s.basic.entries) != 1 {
		t.Fatalf("%d cache entries, want 1", len(f.s.basic.entries))
	}
	for k := range f.s.basic.entries {
		if string(k[:]) == "secret1" || k == [32]byte{} {
			t.Fatalf("cache key is not a keyed hash: %x", k)
		}
	}
}

func TestBasicCacheNeverKeepsWrongPasswords(t *testing.T) {
	f := newBasicFixture(t)
	for i := 0; i < 2; i++ {
		if n := f.basic(t, "wrong-pw", false); n != 1 {
			t.Fatalf("wrong password %d: %d bcrypt comparisons, want 1 each time", i, n)
		}
	}
	if len(f.s.basic.entries) != 0 {
		t.Fatalf("a wrong password was remembered")
	}
	// A remembered right password does not let a wrong one through.
	f.basic(t, "secret1", true)
	f.basic(t, "secret2", false)
}

func TestBasicCacheExpires(t *testing.T) {
	f := newBasicFixture(t)
	f.basic(t, "secret1", true)
	f.now = f.now.Add(BasicCacheTTL - time.Second)
	if n := f.basic(t, "secret1", true); n != 0 {
		t.Fatalf("within the TTL: %d bcrypt comparisons", n)
	}
	f.now = f.now.Add(time.Second)
	if n := f.basic(t, "secret1", true); n != 1 {
		t.Fatalf("after the TTL: %d bcrypt comparisons, want 1", n)
	}
}

func TestBasicCacheDroppedOnPasswordChange(t *testing.T) {
	f := newBasicFixture(t)
	f.basic(t, "secret1", true)
	if err := f.s.SetPassword(f.ctx, f.carol, "password", "secret2", ""); err != nil {
		t.Fatal(err)
	}
	if len(f.s.basic.entries) != 0 {
		t.Fatalf("the password change left the cache entry")
	}
	f.basic(t, "secret1", false)
	if n := f.basic(t, "secret2", true); n != 1 {
		t.Fatalf("new password: %d bcrypt comparisons, want 1", n)
	}
}

// A password changed behind this server's back (another replica, the CLI)
// no longer matches the remembered hash.
func TestBasicCacheSeesChangedHash(t *testing.T) {
	f := newBasicFixture(t)
	f.basic(t, "secret1", true)
	hash, _ := HashPassword("secret2")
	f.client.User.UpdateOneID(f.carol).SetPasswordHash(hash).ExecX(f.ctx)
	if n := f.basic(t, "secret1", false); n != 1 {
		t.Fatalf("old password after an outside change: %d bcrypt comparisons, want 1", n)
	}
}

func TestBasicCacheDroppedOnDisableAndLogout(t *testing.T) {
	f := newBasicFixture(t)
	f.basic(t, "secret1", true)
	// Disable: the resolver sets the status and revokes the user's sessions.
	f.client.User.UpdateOneID(f.carol).SetStatus(user.StatusDisabled).ExecX(f.ctx)
	if err := f.s.RevokeUser(f.ctx, f.carol, ""); err != nil {
		t.Fatal(err)
	}
	if len(f.s.basic.entries) != 0 {
		t.Fatalf("disabling left the cache entry")
	}
	f.basic(t, "secret1", false)
	f.client.User.UpdateOneID(f.carol).SetStatus(user.StatusActive).ExecX(f.ctx)

	f.basic(t, "secret1", true)
	ctx := viewer.NewContext(f.ctx, &viewer.Viewer{UserID: f.carol, Username: "carol"})
	_ = f.s.Logout(ctx) // HTTP Basic has no session to end, but its entry goes
	if len(f.s.basic.entries) != 0 {
		t.Fatalf("logout left the cache entry")
	}
	if n := f.basic(t, "secret1", true); n != 1 {
		t.Fatalf("after logout: %d bcrypt comparisons, want 1", n)
	}
}

// A user disabled without this server hearing of it is refused on a hit.
func TestBasicCacheSeesDisabledUser(t *testing.T) {
	f := newBasicFixture(t)
	f.basic(t, "secret1", true)
	f.client.User.UpdateOneID(f.carol).SetStatus(user.StatusDisabled).ExecX(f.ctx)
	f.basic(t, "secret1", false)
}
