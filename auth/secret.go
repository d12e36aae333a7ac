package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// newSecret returns 256 random bits, URL-safe encoded.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is what the database keeps of a session or API token: a thief
// of the database cannot use it to sign in.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SessionKey is the stored key of a session token: what a domain change
// names to keep the caller's own session (units.UserChange.KeepSession).
func SessionKey(token string) string {
	if token == "" {
		return ""
	}
	return hashSecret(token)
}
