package auth

import (
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/meridianplane/meridian/internal/apierr"
)

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPasswordLen = 6
	MaxPasswordLen = 72
)

// CheckPasswordPolicy validates a new password; field names the input field.
func CheckPasswordPolicy(field, pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return apierr.BadInput(field, "must be at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return apierr.BadInput(field, "must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword hashes a password with bcrypt.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// PasswordMatches reports whether pw matches the bcrypt hash.
func PasswordMatches(hash, pw string) bool {
	return compareHash([]byte(hash), []byte(pw)) == nil
}

// compareHash is bcrypt's comparison (tests count the calls).
var compareHash = bcrypt.CompareHashAndPassword

// dummyHash is compared against when a user does not exist, so that a login
// for an unknown user takes as long as one with a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("meridian-dummy-password"), bcrypt.DefaultCost)
