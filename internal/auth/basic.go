package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// HTTP Basic sends the password with every request, and bcrypt takes tens
// of milliseconds by design. Credentials that verified are remembered for
// BasicCacheTTL, keyed by an HMAC (with a key made at start) of the user
// name and password, never the password itself. A remembered entry holds
// the user and the password hash it matched: every hit still loads the user,
// so a password changed anywhere (another replica, the CLI) or a disabled
// user is seen at once, and a password change, reset, disable or logout on
// this server drops the user's entries. Wrong passwords are never
// remembered.
const (
	BasicCacheTTL  = time.Minute
	basicCacheSize = 10000
)

type basicEntry struct {
	userID int
	hash   string // the password hash the credentials matched
	until  time.Time
}

type basicCache struct {
	mu      sync.Mutex
	key     []byte
	entries map[[sha256.Size]byte]basicEntry
}

func newBasicCache() *basicCache {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return &basicCache{key: key, entries: map[[sha256.Size]byte]basicEntry{}}
}

func (c *basicCache) keyOf(username, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(username))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (c *basicCache) get(k [sha256.Size]byte, now time.Time) (basicEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.until) {
		delete(c.entries, k)
		return e, false
	}
	return e, ok
}

func (c *basicCache) put(k [sha256.Size]byte, e basicEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= basicCacheSize {
		for k, v := range c.entries {
			if !now.Before(v.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= basicCacheSize {
			clear(c.entries)
		}
	}
	c.entries[k] = e
}

func (c *basicCache) drop(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// forget drops every entry of a user.
func (c *basicCache) forget(userID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.entries {
		if v.userID == userID {
			delete(c.entries, k)
		}
	}
}

// AuthenticateBasic checks a user name and password (HTTP Basic), running
// bcrypt only when the credentials are not remembered.
func (s *Service) AuthenticateBasic(ctx context.Context, username, password string) (*viewer.Viewer, error) {
	k := s.basic.keyOf(username, password)
	if e, ok := s.basic.get(k, s.now()); ok {
		u, err := s.db(ctx).User.Get(policy.System(ctx), e.userID)
		if err == nil && u.Username == username && u.PasswordHash == e.hash {
			if err := usable(u); err != nil {
				s.basic.drop(k)
				return nil, apierr.New(apierr.Unauthenticated, "%s", err.Error())
			}
			return viewerOf(u, ""), nil
		}
		s.basic.drop(k) // the password changed or the user is gone: check afresh
	}
	u, err := s.credentials(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if err := usable(u); err != nil {
		return nil, apierr.New(apierr.Unauthenticated, "%s", err.Error())
	}
	s.basic.put(k, basicEntry{userID: u.ID, hash: u.PasswordHash, until: s.now().Add(BasicCacheTTL)}, s.now())
	return viewerOf(u, ""), nil
}
