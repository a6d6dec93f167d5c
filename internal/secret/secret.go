// Package secret encrypts the secrets Meridian stores for backends
// (kubeconfigs, tokens, passwords) with AES-256-GCM. The key comes from
// MERIDIAN_SECRET_KEY (64 hex characters or base64 of 32 bytes), or is
// generated once and kept in a file beside the database.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// version prefixes every sealed value, so the format can change later.
const version byte = 1

// Box seals and opens secrets.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret: key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// ParseKey reads a key written as 64 hex characters or base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("secret: a key is 64 hex characters or base64 of 32 bytes")
}

// Load returns the Box for env (MERIDIAN_SECRET_KEY's value) or, when it is
// empty, for the key in file, creating the file with a new key if it does
// not exist. With neither (an in-memory database), the key is ephemeral.
func Load(env, file string) (*Box, error) {
	if env != "" {
		key, err := ParseKey(env)
		if err != nil {
			return nil, fmt.Errorf("MERIDIAN_SECRET_KEY: %w", err)
		}
		return New(key)
	}
	if file == "" {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		return New(key)
	}
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(hex.EncodeToString(key) + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("secret: writing %s: %w", file, err)
			}
			return New(key)
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("secret: creating %s: %w", file, err)
		}
		raw, err = os.ReadFile(file) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("secret: reading %s: %w", file, err)
	}
	key, err := ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return New(key)
}

// Seal encrypts plaintext; an empty plaintext seals to nil.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, []byte{version}), nil
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return nil, errors.New("secret: not a sealed value")
	}
	pt, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte{version})
	if err != nil {
		return nil, errors.New("secret: cannot decrypt (wrong MERIDIAN_SECRET_KEY?)")
	}
	return pt, nil
}
