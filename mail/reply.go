package mail

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// replyKeySetting names the setting that holds the key signing reply
// addresses; it is made once, on first use, and shared by every process.
const replyKeySetting = "mail_reply_key"

// ReplyKey returns the organisation's reply-signing key, making it on first
// use. Concurrent first uses agree: the first insert wins and all read it.
func ReplyKey(ctx context.Context, idb bun.IDB) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := idb.NewRaw("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		replyKeySetting, hex.EncodeToString(fresh)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store the reply key: %w", err)
	}
	var value string
	if err := idb.NewSelect().Table("settings").Column("value").Where("key = ?", replyKeySetting).Scan(ctx, &value); err != nil {
		return nil, fmt.Errorf("read the reply key: %w", err)
	}
	return hex.DecodeString(value)
}

// ReplyAddress is the address a reply about request requestID goes to: the
// From address plus-tagged with the request and a signature, such as
// tiski+r12.3f9a0c1d2b4e5f60@example.org, so a reply finds its request and
// a forged tag is told apart.
func ReplyAddress(from string, key []byte, requestID int64) string {
	local, domain, _ := strings.Cut(from, "@")
	return fmt.Sprintf("%s+r%d.%s@%s", local, requestID, replySignature(key, requestID), domain)
}

// ParseReplyAddress returns the request a reply address routes to, and
// false for an address Tiski did not sign.
func ParseReplyAddress(addr string, key []byte) (int64, bool) {
	local, _, _ := strings.Cut(addr, "@")
	_, tag, ok := strings.Cut(local, "+")
	if !ok || !strings.HasPrefix(tag, "r") {
		return 0, false
	}
	idText, sig, ok := strings.Cut(tag[1:], ".")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(replySignature(key, id))) {
		return 0, false
	}
	return id, true
}

func replySignature(key []byte, requestID int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "reply:request:%d", requestID)
	return hex.EncodeToString(m.Sum(nil)[:8])
}
