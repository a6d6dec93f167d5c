// Package auth is Meridian's one authentication path: passwords, JWT sessions
// and the HTTP middleware that turns any of the four header conventions into a
// viewer in the request context.
package auth

import (
	"context"
	"crypto/rand"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/meridianplane/meridian/ent"
	"github.com/meridianplane/meridian/ent/session"
	"github.com/meridianplane/meridian/ent/setting"
	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/apierr"
	"github.com/meridianplane/meridian/internal/policy"
	"github.com/meridianplane/meridian/internal/viewer"
)

// Defaults from the OTE-Stack origin: tokens live an hour and can be
// refreshed up to five hours after they were issued.
const (
	DefaultTokenTTL      = time.Hour
	DefaultRefreshWindow = 5 * time.Hour
	Issuer               = "meridian"
	jwtSecretSetting     = "jwt_secret"
)

// Options configure the Service.
type Options struct {
	// Secret signs tokens. Empty: a key generated once and kept in the database.
	Secret        []byte
	TokenTTL      time.Duration
	RefreshWindow time.Duration
	Now           func() time.Time
}

// Sign-in throttling: after MaxFailures wrong passwords for one user name
// within FailureWindow, that user name is refused until the window passes
// (login and HTTP Basic alike), before any password is hashed.
const (
	MaxFailures   = 10
	FailureWindow = 5 * time.Minute
)

type failures struct {
	n     int
	since time.Time
}

// Service issues and checks credentials.
type Service struct {
	failMu sync.Mutex
	fails  map[string]*failures
	basic  *basicCache

	client      *ent.Client
	secret      []byte
	ttl, window time.Duration
	now         func() time.Time
}

// New returns a Service over client, loading or creating the signing key.
func New(ctx context.Context, client *ent.Client, o Options) (*Service, error) {
	s := &Service{client: client, secret: o.Secret, ttl: o.TokenTTL, window: o.RefreshWindow, now: o.Now, basic: newBasicCache()}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	if s.window < s.ttl {
		s.window = max(DefaultRefreshWindow, s.ttl)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(s.secret) == 0 {
		key, err := storedSecret(policy.System(ctx), client)
		if err != nil {
			return nil, fmt.Errorf("auth: signing key: %w", err)
		}
		s.secret = key
	}
	return s, nil
}

func storedSecret(ctx context.Context, client *ent.Client) ([]byte, error) {
	st, err := client.Setting.Query().Where(setting.Key(jwtSecretSetting)).Only(ctx)
	if err == nil {
		return hex.DecodeString(st.Value)
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	err = client.Setting.Create().SetKey(jwtSecretSetting).SetValue(hex.EncodeToString(key)).
		OnConflictColumns(setting.FieldKey).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return nil, err
	}
	// Another replica may have won the race: read back what is stored.
	st, err = client.Setting.Query().Where(setting.Key(jwtSecretSetting)).Only(ctx)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(st.Value)
}

// db returns the transaction's client when ctx carries one (a GraphQL
// mutation runs in a transaction), so that auth writes join it.
func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// claims are the JWT claims Meridian issues. The session id is the JWT ID.
type claims struct {
	jwt.RegisteredClaims
	Username string `json:"usr,omitempty"`
}

// Issued is a freshly signed token.
type Issued struct {
	Token     string
	ExpiresAt time.Time
	User      *ent.User
}

// errBadCredentials is what every failed login says, whatever failed.
var errBadCredentials = apierr.New(apierr.Unauthenticated, "invalid user name or password")

// Login checks a user's password and issues a token.
func (s *Service) Login(ctx context.Context, username, password string) (*Issued, error) {
	u, err := s.credentials(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if err := usable(u); err != nil {
		return nil, err
	}
	return s.issue(policy.System(ctx), u, time.Time{})
}

// credentials returns the user whose name and password these are.
func (s *Service) credentials(ctx context.Context, username, password string) (*ent.User, error) {
	if err := s.throttled(username); err != nil {
		return nil, err
	}
	u, err := s.db(ctx).User.Query().Where(user.Username(username)).Only(policy.System(ctx))
	if ent.IsNotFound(err) {
		PasswordMatches(string(dummyHash), password)
		s.failed(username)
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !PasswordMatches(u.PasswordHash, password) {
		s.failed(username)
		return nil, errBadCredentials
	}
	s.failMu.Lock()
	delete(s.fails, username)
	s.failMu.Unlock()
	return u, nil
}

func (s *Service) throttled(username string) error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	f := s.fails[username]
	if f == nil {
		return nil
	}
	if s.now().Sub(f.since) > FailureWindow {
		delete(s.fails, username)
		return nil
	}
	if f.n >= MaxFailures {
		return apierr.New(apierr.Unauthenticated, "too many failed sign-ins for %q; try again in a few minutes", username)
	}
	return nil
}

func (s *Service) failed(username string) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.fails == nil {
		s.fails = map[string]*failures{}
	}
	f := s.fails[username]
	if f == nil || s.now().Sub(f.since) > FailureWindow {
		f = &failures{since: s.now()}
		s.fails[username] = f
	}
	f.n++
	if len(s.fails) > 100000 { // bound memory under a spray of user names
		for k, v := range s.fails {
			if s.now().Sub(v.since) > FailureWindow {
				delete(s.fails, k)
			}
		}
	}
}

// usable refuses users who may not sign in.
func usable(u *ent.User) error {
	switch u.Status {
	case user.StatusActive:
		return nil
	case user.StatusPending:
		return apierr.New(apierr.Forbidden, "user %q is waiting for approval", u.Username)
	case user.StatusRejected:
		return apierr.New(apierr.Forbidden, "user %q was rejected", u.Username)
	default:
		return apierr.New(apierr.Forbidden, "user %q is disabled", u.Username)
	}
}

// issue starts a session for u that ends at end (zero: one refresh window
// from now) and signs its first token.
func (s *Service) issue(ctx context.Context, u *ent.User, end time.Time) (*Issued, error) {
	now := s.now()
	if end.IsZero() {
		end = now.Add(s.window)
	}
	sid := uuid.NewString()
	if err := s.db(ctx).Session.Create().SetTokenID(sid).SetUserID(u.ID).
		SetExpiresAt(end).Exec(ctx); err != nil {
		return nil, err
	}
	exp := now.Add(s.ttl)
	if exp.After(end) {
		exp = end
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   fmt.Sprint(u.ID),
			ID:        sid,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Username: u.Username,
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return nil, err
	}
	return &Issued{Token: tok, ExpiresAt: exp, User: u}, nil
}

// parse verifies a token's signature (HS256 only) and issuer. With
// allowExpired, an expired token still parses, for refresh.
func (s *Service) parse(token string, allowExpired bool) (*claims, error) {
	c := &claims{}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(5 * time.Second),
	}
	_, err := jwt.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return s.secret, nil }, opts...)
	switch {
	case err == nil:
		return c, nil
	case allowExpired && errors.Is(err, jwt.ErrTokenExpired) && c.ID != "":
		return c, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, apierr.New(apierr.Unauthenticated, "token expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, apierr.New(apierr.Unauthenticated, "token signature invalid")
	}
	return nil, apierr.New(apierr.Unauthenticated, "token invalid")
}

// session loads the live session a token names, and its user.
func (s *Service) session(ctx context.Context, c *claims) (*ent.Session, *ent.User, error) {
	sess, err := s.db(ctx).Session.Query().Where(session.TokenID(c.ID)).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, apierr.New(apierr.Unauthenticated, "token revoked")
	}
	if err != nil {
		return nil, nil, err
	}
	if sess.RevokedAt != nil {
		return nil, nil, apierr.New(apierr.Unauthenticated, "token revoked")
	}
	if !s.now().Before(sess.ExpiresAt) {
		return nil, nil, apierr.New(apierr.Unauthenticated, "session expired")
	}
	if err := usable(sess.Edges.User); err != nil {
		return nil, nil, apierr.New(apierr.Unauthenticated, "%s", err.Error())
	}
	return sess, sess.Edges.User, nil
}

// Authenticate checks a bearer token and returns the viewer it identifies.
func (s *Service) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	c, err := s.parse(token, false)
	if err != nil {
		return nil, err
	}
	sess, u, err := s.session(policy.System(ctx), c)
	if err != nil {
		return nil, err
	}
	v := viewerOf(u, sess.TokenID)
	if c.ExpiresAt != nil {
		v.Expires = c.ExpiresAt.Time
	}
	return v, nil
}

// Alive checks that the viewer's credentials still hold, for long-lived
// connections (subscriptions): the token has not expired, its session is not
// revoked, and the user may still sign in.
func (s *Service) Alive(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apierr.New(apierr.Unauthenticated, "authentication required")
	}
	if !v.Expires.IsZero() && !s.now().Before(v.Expires) {
		return apierr.New(apierr.Unauthenticated, "token expired")
	}
	sys := policy.System(ctx)
	if v.SessionID != "" {
		_, _, err := s.session(sys, &claims{RegisteredClaims: jwt.RegisteredClaims{ID: v.SessionID}})
		return err
	}
	u, err := s.db(ctx).User.Get(sys, v.UserID)
	if err != nil {
		return apierr.New(apierr.Unauthenticated, "user gone")
	}
	if err := usable(u); err != nil {
		return apierr.New(apierr.Unauthenticated, "%s", err.Error())
	}
	return nil
}

func viewerOf(u *ent.User, sid string) *viewer.Viewer {
	return &viewer.Viewer{UserID: u.ID, Username: u.Username, TenantID: u.TenantID, Role: viewer.Role(u.Role), SessionID: sid}
}

// Refresh exchanges a token, expired or not, for a new one while its session
// lives; the old session is revoked and the new one ends when it would have,
// so refreshing never outlives the refresh window counted from login.
func (s *Service) Refresh(ctx context.Context, token string) (*Issued, error) {
	if token == "" {
		return nil, apierr.New(apierr.Unauthenticated, "a token is required")
	}
	c, err := s.parse(token, true)
	if err != nil {
		return nil, err
	}
	sys := policy.System(ctx)
	sess, u, err := s.session(sys, c)
	if err != nil {
		return nil, err
	}
	n, err := s.db(ctx).Session.Update().Where(session.ID(sess.ID), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 { // refreshed concurrently
		return nil, apierr.New(apierr.Unauthenticated, "token revoked")
	}
	return s.issue(sys, u, sess.ExpiresAt)
}

// Logout revokes the session of the viewer's token.
func (s *Service) Logout(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apierr.New(apierr.Unauthenticated, "authentication required")
	}
	s.basic.forget(v.UserID)
	if v.SessionID == "" {
		return apierr.BadInput("authorization", "HTTP Basic credentials have no session to end")
	}
	return s.db(ctx).Session.Update().Where(session.TokenID(v.SessionID), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).Exec(policy.System(ctx))
}

// RevokeUser revokes every session of a user except keep (a token id, or "")
// and forgets the user's remembered HTTP Basic credentials.
func (s *Service) RevokeUser(ctx context.Context, userID int, keep string) error {
	s.basic.forget(userID)
	q := s.db(ctx).Session.Update().Where(session.UserID(userID), session.RevokedAtIsNil())
	if keep != "" {
		q.Where(session.TokenIDNEQ(keep))
	}
	return q.SetRevokedAt(s.now()).Exec(policy.System(ctx))
}

// SetPassword validates and stores a user's new password and revokes their
// sessions but keep (a token id, or ""). field names the input for errors.
func (s *Service) SetPassword(ctx context.Context, userID int, field, pw, keep string) error {
	if err := CheckPasswordPolicy(field, pw); err != nil {
		return err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	if err := s.db(ctx).User.UpdateOneID(userID).SetPasswordHash(hash).Exec(ctx); err != nil {
		return err
	}
	return s.RevokeUser(ctx, userID, keep)
}

// CheckPassword reports whether pw is the user's password.
func (s *Service) CheckPassword(ctx context.Context, userID int, pw string) (bool, error) {
	u, err := s.db(ctx).User.Get(policy.System(ctx), userID)
	if err != nil {
		return false, err
	}
	return PasswordMatches(u.PasswordHash, pw), nil
}

// PurgeSessions deletes sessions that ended (expired or revoked) before
// cutoff; their tokens are long dead. It returns how many it deleted.
func (s *Service) PurgeSessions(ctx context.Context, cutoff time.Time) (int, error) {
	return s.db(ctx).Session.Delete().Where(session.Or(
		session.ExpiresAtLT(cutoff),
		session.RevokedAtLT(cutoff),
	)).Exec(policy.System(ctx))
}
