package httpx

import (
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/units"
)

// FuzzCursor: a list cursor comes back from the client, so whatever it
// holds is opened without a panic, and only a cursor this server signed is
// accepted. A cursor sealed from any position opens to that position, and a
// sealed cursor with one byte changed is refused.
func FuzzCursor(f *testing.F) {
	k := &Kit{Org: &units.Organisation{CursorSecret: []byte("fuzz-cursor-secret-0123456789abcdef")}}
	f.Add("units", int64(42), int64(0), "", 0)
	f.Add("requests:updated", int64(7), int64(1796000000), "", 3)
	f.Add("", int64(0), int64(-1), "eyJrIjoidW5pdHMiLCJhIjo0Mn0.AAAA", 0)
	f.Add("x", int64(-5), int64(0), "not a cursor", 1)
	f.Add("audit", int64(9223372036854775807), int64(253402300799), "..", 10)
	f.Fuzz(func(t *testing.T, kind string, afterID, unix int64, raw string, flip int) {
		if _, ok := k.openCursor(raw); ok && !strings.HasPrefix(raw, "eyJ") {
			// A forged one would need the secret; anything accepted must at
			// least be a sealed JSON object.
			t.Fatalf("openCursor accepted %q", raw)
		}
		c := Cursor{Kind: kind, AfterID: afterID}
		if unix > 0 && unix < 253402300799 {
			c.UpdatedAt = time.Unix(unix, 0).UTC()
		}
		sealed := k.SealCursor(c)
		got, ok := k.openCursor(sealed)
		if afterID < 0 {
			if ok {
				t.Fatalf("a negative position %d was accepted", afterID)
			}
			return
		}
		if !ok || got.AfterID != c.AfterID || !got.UpdatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("%+v → %q → %+v, %v", c, sealed, got, ok)
		}
		if strings.ToValidUTF8(kind, "\uFFFD") == kind && got.Kind != kind {
			t.Fatalf("kind %q came back as %q", kind, got.Kind)
		}
		if len(sealed) > 0 {
			i := flip % len(sealed)
			if i < 0 {
				i = -i
			}
			b := []byte(sealed)
			b[i] ^= 0x01
			if other, ok := k.openCursor(string(b)); ok && string(b) != sealed && other != got {
				t.Fatalf("a tampered cursor %q opened to %+v", b, other)
			}
		}
	})
}
