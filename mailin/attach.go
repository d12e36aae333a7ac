package mailin

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// AttachmentLimit is the largest attachment taken, decoded: the portal's
// and the API's upload limit (web/httpx.DefaultAttachmentLimit).
const AttachmentLimit int64 = 10 << 20

// DefaultArchiveLimit is how much an attachment that is a ZIP archive (an
// office document is one) may expand to, all its entries together; more is
// a zip bomb.
const DefaultArchiveLimit int64 = 100 << 20

// maxArchiveEntries is the most entries an archive attachment may hold.
const maxArchiveEntries = 10000

func (d Deps) archiveLimit() int64 {
	if d.ArchiveLimit > 0 {
		return d.ArchiveLimit
	}
	return DefaultArchiveLimit
}

// attach stores the letter's attachments on the request through the
// upload checks of requests.Attach (file name, non-empty, type sniffed from
// the content, extension fitted to it), after the zip-bomb check; any
// refusal sends the whole message to the quarantine with its reason, so
// nothing that came with it is dropped unseen.
func attach(ctx context.Context, tx bun.Tx, d Deps, v requests.Viewer, requestID int64, files []file, now time.Time) error {
	for _, f := range files {
		if r := checkArchive(f, d.archiveLimit()); r != nil {
			return r
		}
		_, err := requests.Attach(ctx, tx, v, requestID, requests.Upload{Filename: f.Name, Content: f.Content}, now)
		if flt, ok := fault.As(err); ok {
			return refuse(ReasonAttachment, "the attachment %s is refused: %s", clip(cleanText(f.Name), 200), flt.Message)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkArchive refuses a ZIP archive that holds too many entries or would
// expand beyond limit. The entries are inflated for real, into nothing and
// only up to the limit, since the sizes an archive declares can lie.
func checkArchive(f file, limit int64) *reject {
	if !bytes.HasPrefix(f.Content, []byte("PK\x03\x04")) {
		return nil
	}
	zr, err := zip.NewReader(bytes.NewReader(f.Content), int64(len(f.Content)))
	if err != nil {
		return nil // not an archive Go reads: the type check decides
	}
	name := clip(cleanText(f.Name), 200)
	if len(zr.File) > maxArchiveEntries {
		return refuse(ReasonArchiveBomb, "the attachment %s holds %d entries, more than %d", name, len(zr.File), maxArchiveEntries)
	}
	var declared uint64
	for _, e := range zr.File {
		if declared += e.UncompressedSize64; declared > uint64(limit) {
			return refuse(ReasonArchiveBomb, "the attachment %s expands to more than %d bytes", name, limit)
		}
	}
	left := limit
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			continue
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(rc, left+1))
		_ = rc.Close()
		if left -= n; left < 0 {
			return refuse(ReasonArchiveBomb, "the attachment %s expands to more than %d bytes", name, limit)
		}
	}
	return nil
}

// fileAttachments stores, when an agent files a quarantined message, those
// of its attachments that pass the checks, and says which did not and why.
// A message kept only in part (oversized) brings none.
func fileAttachments(ctx context.Context, tx bun.Tx, d Deps, v requests.Viewer, requestID int64, m *Message, now time.Time) (string, error) {
	if m.Reason == ReasonOversized || len(m.Raw) == 0 {
		return "", nil
	}
	files, r := filesOf(m.Raw)
	var skipped []string
	if r != nil {
		skipped = append(skipped, r.detail)
	}
	for _, f := range files {
		if r := checkArchive(f, d.archiveLimit()); r != nil {
			skipped = append(skipped, r.detail)
			continue
		}
		_, err := requests.Attach(ctx, tx, v, requestID, requests.Upload{Filename: f.Name, Content: f.Content}, now)
		if flt, ok := fault.As(err); ok {
			skipped = append(skipped, clip(cleanText(f.Name), 200)+": "+flt.Message)
			continue
		}
		if err != nil {
			return "", err
		}
	}
	if len(skipped) == 0 {
		return "", nil
	}
	return clip("attachments not filed: "+strings.Join(skipped, "; "), 1000), nil
}

// filesOf reads the attachments of a stored message, whatever its header.
func filesOf(raw []byte) ([]file, *reject) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, refuse(ReasonMalformed, "the message cannot be parsed: %v", err)
	}
	l := &letter{}
	mt, params := contentType(msg.Header)
	if r := l.readBody(mt, params, msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); r != nil {
		return nil, r
	}
	return l.Attachments, nil
}
