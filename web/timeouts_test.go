package web_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

// Finding (issue 17, item 5): a slowly sent body held a connection with no
// read deadline. With the server's read timeout, a client that sends its
// headers and then trickles the body has its connection closed.
func TestSlowBodyIsCutOff(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	srv := web.HTTPServer("", webtest.NewServer(t, d, web.Config{}).Handler(),
		web.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Write: time.Minute, Idle: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for name, request := range map[string]string{
		"slow body":    "POST /api/v1/session HTTP/1.1\r\nHost: tiski\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":",
		"slow headers": "GET /healthz HTTP/1.1\r\nHost: tiski\r\nX-Slow: ",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, request); err != nil {
				t.Fatal(err)
			}
			// The client never sends the rest. The deadline only keeps a
			// broken server from hanging the suite; the assertion is that
			// the server closes the connection.
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = io.Copy(io.Discard, bufio.NewReader(conn))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the server still holds the connection of a client that stopped sending")
			}
		})
	}
}
