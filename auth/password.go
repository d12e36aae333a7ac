// Package auth signs people in: argon2id passwords, server-side sessions,
// API tokens and login throttling. Everything it stores is in the database,
// so any number of server processes share it.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/tiski/tiski/fault"
)

// HashParams are argon2id's cost settings. They are stored inside every hash,
// so changing them affects new hashes only.
type HashParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultHashParams follow OWASP's argon2id recommendation (19 MiB, 2 passes).
var DefaultHashParams = HashParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	minPasswordRunes = 10
	maxPasswordBytes = 1024
	saltBytes        = 16
	keyBytes         = 32
)

// CheckPasswordRules refuses passwords too short or too long to accept.
func CheckPasswordRules(password string) error {
	if len([]rune(password)) < minPasswordRunes {
		return fault.Invalid("password", "password must be at least %d characters", minPasswordRunes)
	}
	if len(password) > maxPasswordBytes {
		return fault.Invalid("password", "password must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

// HashPassword returns an encoded argon2id hash of password.
func HashPassword(password string, p HashParams) (string, error) {
	if err := CheckPasswordRules(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the encoded hash. An empty
// or malformed hash never matches.
func VerifyPassword(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p HashParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
