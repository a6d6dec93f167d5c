package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := Load("", "")
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := b.Seal([]byte("kubeconfig"))
	s2, _ := b.Seal([]byte("kubeconfig"))
	if bytes.Equal(s1, s2) || bytes.Contains(s1, []byte("kubeconfig")) {
		t.Fatal("sealing is deterministic or leaks the plaintext")
	}
	pt, err := b.Open(s1)
	if err != nil || string(pt) != "kubeconfig" {
		t.Fatalf("open: %q %v", pt, err)
	}
	s1[len(s1)-1] ^= 1
	if _, err := b.Open(s1); err == nil {
		t.Fatal("a tampered value opened")
	}
	other, _ := Load("", "")
	if _, err := other.Open(s2); err == nil {
		t.Fatal("another key opened the value")
	}
}

func TestKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.db.key")
	a, err := Load("", file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(file)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	b, err := Load("", file)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := a.Seal([]byte("x"))
	if pt, err := b.Open(s); err != nil || string(pt) != "x" {
		t.Fatal("the key file does not give the same key")
	}
	if _, err := Load("short", ""); err == nil {
		t.Fatal("a bad MERIDIAN_SECRET_KEY was accepted")
	}
	if _, err := Load("0000000000000000000000000000000000000000000000000000000000000000", ""); err != nil {
		t.Fatal(err)
	}
}
