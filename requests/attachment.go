package requests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode"

	"github.com/gabriel-vasile/mimetype"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// Attachment is a file added to a request. Its bytes live in
// attachment_contents, in the database, so every server process serves it.
type Attachment struct {
	bun.BaseModel `bun:"table:request_attachments"`

	ID          int64     `bun:"id,pk,autoincrement"`
	RequestID   int64     `bun:"request_id"`
	UploaderID  int64     `bun:"uploader_id"`
	Filename    string    `bun:"filename"`
	ContentType string    `bun:"content_type"`
	SizeBytes   int64     `bun:"size_bytes"`
	SHA256      string    `bun:"sha256"`
	StorageName string    `bun:"storage_name"`
	Internal    bool      `bun:"internal"`
	CreatedAt   time.Time `bun:"created_at"`
}

type attachmentContent struct {
	bun.BaseModel `bun:"table:attachment_contents"`

	StorageName string `bun:"storage_name,pk"`
	Content     []byte `bun:"content"`
}

// AttachmentTypes are the file types a request accepts, as sniffed from the
// content: documents and pictures people send to a service desk, nothing a
// browser or an operating system would run.
var AttachmentTypes = []string{
	"application/pdf",
	"image/png", "image/jpeg", "image/gif", "image/webp",
	"text/plain", "text/csv",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.spreadsheet",
}

// Upload is a file as it arrived.
type Upload struct {
	Filename string // as the client named it
	Content  []byte
	Internal bool
}

// Attach stores a file on a request the viewer may see and post on. The
// type comes from the content, never from the name; the name is kept for
// display only and the stored object gets a random name of the server's.
func Attach(ctx context.Context, tx bun.Tx, v Viewer, requestID int64, u Upload, now time.Time) (*Attachment, error) {
	r, err := Get(ctx, tx, v, requestID)
	if err != nil {
		return nil, err
	}
	if err := v.MayPost(r, u.Internal); err != nil {
		return nil, err
	}
	if err := CheckFilename(u.Filename); err != nil {
		return nil, err
	}
	if len(u.Content) == 0 {
		return nil, fault.Invalid("file", "the file is empty")
	}
	contentType, err := sniff(u.Content)
	if err != nil {
		return nil, err
	}
	storageName, err := randomName()
	if err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(&attachmentContent{StorageName: storageName, Content: u.Content}).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store attachment of request %d: %w", r.ID, err)
	}
	sum := sha256.Sum256(u.Content)
	a := &Attachment{RequestID: r.ID, UploaderID: v.UserID, Filename: fitExtension(u.Filename, contentType), ContentType: contentType,
		SizeBytes: int64(len(u.Content)), SHA256: hex.EncodeToString(sum[:]), StorageName: storageName,
		Internal: u.Internal, CreatedAt: now}
	if _, err := tx.NewInsert().Model(a).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("attach to request %d: %w", r.ID, err)
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "attach",
		Note: fmt.Sprintf("attachment %d: %s", a.ID, a.Filename), Internal: u.Internal}); err != nil {
		return nil, err
	}
	return a, nil
}

// maxFilename is the longest file name, in characters, an attachment keeps.
const maxFilename = 200

// CheckFilename accepts a plain file name: no directory parts, no "..", no
// control or bidirectional-formatting characters, 1 to 200 characters.
func CheckFilename(name string) error {
	if err := fault.Text("filename", name, 1, maxFilename, false); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" || strings.Trim(name, ".") == "" {
		return fault.Invalid("filename", "the file needs a name")
	}
	if strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return fault.Invalid("filename", "the file name may not contain /, \\ or ..")
	}
	for _, c := range name {
		if unicode.Is(unicode.Cf, c) {
			return fault.Invalid("filename", "the file name contains an invisible formatting character")
		}
	}
	return nil
}

// sniff returns the allowed media type of content, with the charset of
// text kept, or an unsupported_file_type fault.
func sniff(content []byte) (string, error) {
	detected := mimetype.Detect(content)
	for _, allowed := range AttachmentTypes {
		if !detected.Is(allowed) {
			continue
		}
		_, params, _ := mime.ParseMediaType(detected.String())
		if charset := params["charset"]; charset != "" && strings.HasPrefix(allowed, "text/") {
			return mime.FormatMediaType(allowed, map[string]string{"charset": charset}), nil
		}
		return allowed, nil
	}
	return "", fault.New(fault.KindInvalid, "unsupported_file_type",
		"files of type %s are not accepted; send a PDF, an image (PNG, JPEG, GIF, WebP), "+
			"plain text, CSV or an office document", detected.String()).
		With("field", "file").With("content_type", detected.String())
}

func randomName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("name attachment: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Attachments returns up to limit attachments after afterID, oldest first,
// of a request the viewer may see; internal ones only for the provider side.
func Attachments(ctx context.Context, idb bun.IDB, v Viewer, requestID, afterID int64, limit int) ([]Attachment, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, err
	}
	var rows []Attachment
	q := idb.NewSelect().Model(&rows).Where("request_id = ? AND id > ?", r.ID, afterID).OrderExpr("id ASC").Limit(int64(limit))
	if !v.SeesInternal(r) {
		q = q.Where("internal = ?", false)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("attachments of request %d: %w", r.ID, err)
	}
	return rows, nil
}

// OpenAttachment returns an attachment of a request the viewer may see,
// with its bytes; an internal one is not found for the consumer side.
func OpenAttachment(ctx context.Context, idb bun.IDB, v Viewer, requestID, attachmentID int64) (*Attachment, []byte, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, nil, err
	}
	a := new(Attachment)
	if err := idb.NewSelect().Model(a).Where("id = ? AND request_id = ?", attachmentID, r.ID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fault.NotFound("attachment")
		}
		return nil, nil, fmt.Errorf("get attachment %d: %w", attachmentID, err)
	}
	if a.Internal && !v.SeesInternal(r) {
		return nil, nil, fault.NotFound("attachment")
	}
	content := new(attachmentContent)
	if err := idb.NewSelect().Model(content).Where("storage_name = ?", a.StorageName).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("read attachment %d: %w", a.ID, err)
	}
	return a, content.Content, nil
}
