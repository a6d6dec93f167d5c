package server_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/meridianplane/meridian/internal/config"
	"github.com/meridianplane/meridian/internal/testenv"
)

const secret = "test-signing-secret"

func withSecret(c *config.Config) { c.JWTSecret = secret }

func forge(t *testing.T, key, alg string, claims jwt.MapClaims) string {
	t.Helper()
	var m jwt.SigningMethod = jwt.SigningMethodHS256
	if alg == "HS512" {
		m = jwt.SigningMethodHS512
	}
	tok, err := jwt.NewWithClaims(m, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claimsOf(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// me asks who the token belongs to and returns the error code ("" if none).
func me(e *testenv.Env, token string) (string, string) {
	r := e.GQL(token, `{ me { user { username } } }`, nil)
	return r.Str("me.user.username"), r.Code()
}

func TestTokens(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db, withSecret)
		tok := e.AdminToken()
		if u, code := me(e, tok); u != "admin" || code != "" {
			t.Fatalf("me = %q %q", u, code)
		}
		c := claimsOf(t, tok)
		if c["iss"] != "meridian" || c["jti"] == "" || c["exp"] == nil {
			t.Fatalf("claims %v", c)
		}
		now := time.Now()
		cases := []struct {
			name, token string
		}{
			{"garbage", "not-a-jwt"},
			{"bad signature", forge(t, "another-secret", "HS256", c)},
			{"other algorithm", forge(t, secret, "HS512", c)},
			{"alg none", func() string {
				h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
				p := strings.Split(tok, ".")[1]
				return h + "." + p + "."
			}()},
			{"expired", forge(t, secret, "HS256", jwt.MapClaims{"iss": "meridian", "sub": c["sub"], "jti": c["jti"], "exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()})},
			{"wrong issuer", forge(t, secret, "HS256", jwt.MapClaims{"iss": "evil", "sub": c["sub"], "jti": c["jti"], "exp": now.Add(time.Hour).Unix()})},
			{"no expiry", forge(t, secret, "HS256", jwt.MapClaims{"iss": "meridian", "sub": c["sub"], "jti": c["jti"]})},
			{"unknown session", forge(t, secret, "HS256", jwt.MapClaims{"iss": "meridian", "sub": c["sub"], "jti": "no-such-session", "exp": now.Add(time.Hour).Unix()})},
		}
		for _, tc := range cases {
			if _, code := me(e, tc.token); code != "UNAUTHENTICATED" {
				t.Errorf("%s: code %q, want UNAUTHENTICATED", tc.name, code)
			}
			if r := e.Do("GET", "/v1/authorization", nil, testenv.Auth(tc.token)...); r.Status != 401 || r.Body["code"] != float64(401) {
				t.Errorf("%s over REST: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		if r := e.Do("GET", "/v1/authorization", nil); r.Status != 401 {
			t.Errorf("no token over REST: %d", r.Status)
		}

		// Refresh: an expired token of a live session refreshes; the old one is revoked.
		expired := forge(t, secret, "HS256", jwt.MapClaims{"iss": "meridian", "sub": c["sub"], "jti": c["jti"], "exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix()})
		r := e.Do("PUT", "/v1/authorization", nil, testenv.Auth(expired)...)
		if r.Status != 200 || r.Body["token"] == nil {
			t.Fatalf("refresh of an expired token: %d %s", r.Status, r.Raw)
		}
		fresh := r.Body["token"].(string)
		if u, _ := me(e, fresh); u != "admin" {
			t.Fatalf("refreshed token does not work")
		}
		if _, code := me(e, tok); code != "UNAUTHENTICATED" {
			t.Fatalf("the token refreshed away still works")
		}
		if r := e.Do("PUT", "/v1/authorization", nil, testenv.Auth(tok)...); r.Status != 401 {
			t.Fatalf("refreshing a revoked token: %d", r.Status)
		}

		// Logout revokes.
		if r := e.Do("DELETE", "/v1/authorization", nil, testenv.Auth(fresh)...); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		if _, code := me(e, fresh); code != "UNAUTHENTICATED" {
			t.Fatalf("a logged-out token still works")
		}
	})
}

func TestHeaderConventions(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		tok := e.AdminToken()
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+testenv.AdminPassword))
		for _, h := range [][]string{
			{"Authorization", tok},
			{"Authorization", "Bearer " + tok},
			{"Authorization", "bearer " + tok},
			{"access_token", tok},
			{"access-token", tok},
			{"Authorization", basic},
		} {
			r := e.Do("GET", "/v1/authorization", nil, h...)
			if r.Status != http.StatusOK || testenv.Path(r.Body, "data.role") != float64(3) {
				t.Errorf("%s: %d %s", h[0], r.Status, r.Raw)
			}
		}
		bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:wrong"))
		if r := e.Do("GET", "/v1/authorization", nil, "Authorization", bad); r.Status != 401 {
			t.Errorf("bad basic: %d", r.Status)
		}
	})
}

func TestUserLifecycle(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		admin := e.AdminToken()
		// Self-registration: pending until approved.
		r := e.Do("POST", "/v1/user", map[string]any{"user": "u1", "password": "xxX@1234", "phone": "12345678910", "realName": "hello"})
		if r.Status != 200 {
			t.Fatalf("register: %d %s", r.Status, r.Raw)
		}
		id := testenv.Path(r.Body, "data.id")
		login := func(pw string) *testenv.Response {
			return e.Do("POST", "/v1/authorization", map[string]any{"user": "u1", "password": pw})
		}
		if r := login("xxX@1234"); r.Status != 403 {
			t.Fatalf("pending login: %d %s", r.Status, r.Raw)
		}
		path := "/v1/admin/user/" + jsonNum(id)
		if r := e.Do("PUT", path, map[string]any{"status": 1}, testenv.Auth(admin)...); r.Status != 200 {
			t.Fatalf("approve: %d %s", r.Status, r.Raw)
		}
		r = login("xxX@1234")
		if r.Status != 200 {
			t.Fatalf("login after approval: %d %s", r.Status, r.Raw)
		}
		t1 := r.Body["token"].(string)
		t2 := login("xxX@1234").Body["token"].(string)
		// A password change keeps the changing token and revokes the others.
		if r := e.Do("PUT", "/v1/user", map[string]any{"oldPassword": "wrong-one", "password": "n3w-password"}, testenv.Auth(t1)...); r.Status != 422 || !strings.Contains(r.Body["message"].(string), "oldPassword") {
			t.Fatalf("wrong old password: %d %s", r.Status, r.Raw)
		}
		if r := e.Do("PUT", "/v1/user", map[string]any{"oldPassword": "xxX@1234", "password": "n3w-password"}, testenv.Auth(t1)...); r.Status != 200 {
			t.Fatalf("change password: %d %s", r.Status, r.Raw)
		}
		if _, code := me(e, t1); code != "" {
			t.Fatalf("the changing token was revoked: %s", code)
		}
		if _, code := me(e, t2); code != "UNAUTHENTICATED" {
			t.Fatalf("another token survived a password change")
		}
		if r := login("xxX@1234"); r.Status != 401 {
			t.Fatalf("old password still works: %d", r.Status)
		}
		// Admin reset revokes every token; disable blocks login.
		if r := e.Do("PUT", path+"/password", map[string]any{"password": "reset-pass"}, testenv.Auth(admin)...); r.Status != 200 {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		if _, code := me(e, t1); code != "UNAUTHENTICATED" {
			t.Fatalf("token survived an admin reset")
		}
		if r := e.Do("PUT", path, map[string]any{"status": 3}, testenv.Auth(admin)...); r.Status != 200 {
			t.Fatalf("disable: %d", r.Status)
		}
		if r := login("reset-pass"); r.Status != 403 {
			t.Fatalf("disabled login: %d %s", r.Status, r.Raw)
		}
		// Delete.
		if r := e.Do("DELETE", path, nil, testenv.Auth(admin)...); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do("DELETE", path, nil, testenv.Auth(admin)...); r.Status != 404 {
			t.Fatalf("delete again: %d %s", r.Status, r.Raw)
		}
		if r := login("reset-pass"); r.Status != 401 {
			t.Fatalf("deleted user logs in: %d", r.Status)
		}
	})
}

func jsonNum(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', 0, 64)
}

func TestPurgeSessions(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	tok := e.AdminToken()
	old := e.Login("admin", testenv.AdminPassword)
	e.Do("DELETE", "/v1/authorization", nil, testenv.Auth(old)...)
	n, err := e.Server.Auth.PurgeSessions(e.Sys(), time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want the one revoked session", n, err)
	}
	if _, code := me(e, tok); code != "" {
		t.Fatalf("a live session was purged")
	}
}

// TestOwnAccount: users change their own password only with the current one;
// admins and guests can too; nobody changes their own role or status.
func TestOwnAccount(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db testenv.Database) {
		e := testenv.Start(t, db)
		for _, role := range []string{"normal", "admin", "guest"} {
			tok, id := e.NewUser("own-"+role, role)
			// No shortcut through the admin reset, over either API.
			r := e.GQL(tok, `mutation($id: ID!) { resetPassword(id: $id, password: "stolen-pw") { id } }`, map[string]any{"id": id})
			if r.Code() != "FORBIDDEN" {
				t.Errorf("%s resets own password: %q", role, r.Code())
			}
			if res := e.Do("PUT", "/v1/admin/user/"+id+"/password", map[string]any{"password": "stolen-pw"}, testenv.Auth(tok)...); res.Status != 403 {
				t.Errorf("%s resets own password over REST: %d %s", role, res.Status, res.Raw)
			}
			for _, st := range []string{"disabled", "active"} {
				if r := e.GQL(tok, `mutation($id: ID!, $s: UserStatus!) { setUserStatus(id: $id, status: $s) { id } }`, map[string]any{"id": id, "s": st}); r.Code() != "FORBIDDEN" {
					t.Errorf("%s sets own status %s: %q", role, st, r.Code())
				}
			}
			// The proper way works.
			e.GQL(tok, `mutation { changePassword(input: {oldPassword: "password1", password: "password2"}) }`, nil).OK()
			e.GQL(tok, `mutation($id: ID!) { updateUser(id: $id, input: {realName: "Me"}) { realName } }`, map[string]any{"id": id}).OK()
			e.Login("own-"+role, "password2")
		}
	})
}

// TestRefreshWindowIsAbsolute: refreshing does not extend the session.
func TestRefreshWindowIsAbsolute(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], func(c *config.Config) { c.TokenTTL = time.Hour; c.RefreshWindow = 2 * time.Hour })
	tok := e.AdminToken()
	end := func(token string) int64 {
		return int64(claimsOf(t, token)["exp"].(float64))
	}
	first := end(tok)
	for i := 0; i < 3; i++ {
		r := e.Do("PUT", "/v1/authorization", nil, testenv.Auth(tok)...)
		if r.Status != 200 {
			t.Fatalf("refresh %d: %d", i, r.Status)
		}
		tok = r.Body["token"].(string)
	}
	sessions, err := e.Client.Session.Query().All(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	limit := time.Unix(first, 0).Add(time.Hour + time.Minute)
	for _, s := range sessions {
		if s.ExpiresAt.After(limit) {
			t.Fatalf("a refreshed session ends at %v, after the window from login (%v)", s.ExpiresAt, limit)
		}
	}
}

// TestOddIDs: IDs of hidden types or outside every range are NOT_FOUND.
func TestOddIDs(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	tok := e.AdminToken()
	for _, id := range []string{"21474836481", "25769803777", "99999999999", "0", "-5"} {
		if r := e.GQL(tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
			t.Errorf("node(%s): %q %+v", id, r.Code(), r.Errors)
		}
	}
	if r := e.Do("GET", "/v1/business/id/21474836481", nil, testenv.Auth(tok)...); r.Status != 404 {
		t.Errorf("a session's ID as a business: %d %s", r.Status, r.Raw)
	}
}

// TestRESTIgnoresAdHocLimits: declared REST operations have their own
// budget (rest.ComplexityLimit); tight limits for ad-hoc GraphQL do not break
// them.
func TestRESTIgnoresAdHocLimits(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0], func(c *config.Config) { c.Depth = 2; c.Complexity = 5 })
	r := e.Do("GET", "/v1/cluster?pageSize=1000", nil, testenv.Auth(e.AdminToken())...)
	if r.Status != 200 {
		t.Fatalf("REST under tight limits: %d %s", r.Status, r.Raw)
	}
	if g := e.GQL(e.AdminToken(), `{ clusters { edges { node { nodes { totalCount } } } } }`, nil); g.Code() == "" {
		t.Fatalf("ad-hoc GraphQL passed tight limits")
	}
}

// TestSignInThrottle: wrong passwords for one user name are refused after
// a few tries, before any hashing; other users are unaffected.
func TestSignInThrottle(t *testing.T) {
	e := testenv.Start(t, testenv.Databases()[0])
	e.NewUser("victim", "normal")
	for i := 0; i < 10; i++ {
		e.Do("POST", "/v1/authorization", map[string]any{"user": "victim", "password": "guess-" + strconv.Itoa(i)})
	}
	r := e.Do("POST", "/v1/authorization", map[string]any{"user": "victim", "password": "password1"})
	if r.Status != 401 || !strings.Contains(r.Body["message"].(string), "too many") {
		t.Fatalf("the right password after 10 wrong ones: %d %s", r.Status, r.Raw)
	}
	if r := e.Do("GET", "/v1/authorization", nil, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("victim:password1"))); r.Status != 401 {
		t.Fatalf("HTTP Basic is throttled too: %d", r.Status)
	}
	e.Login("admin", testenv.AdminPassword)
}
