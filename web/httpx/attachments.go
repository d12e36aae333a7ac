package httpx

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// Attach stores the uploaded file on request id, for the API and the
// portal alike.
func (k *Kit) Attach(c echo.Context, id int64) (*requests.Attachment, error) {
	v, ctx := k.Viewer(c), c.Request().Context()
	r, err := requests.Get(ctx, k.DB, v, id)
	if err != nil {
		return nil, err
	}
	if err := v.MayPost(r, false); err != nil {
		return nil, err
	}
	u, err := k.readUpload(c)
	if err != nil {
		return nil, err
	}
	var created *requests.Attachment
	err = k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.Attach(ctx, tx, v, id, u, time.Now().UTC())
		return err
	})
	return created, err
}

// readUpload reads the multipart body of an upload within the attachment
// limit, keeping the file name exactly as the client sent it so that a
// name with directory parts is refused rather than silently shortened.
func (k *Kit) readUpload(c echo.Context) (requests.Upload, error) {
	limit := k.Cfg.AttachmentLimit
	tooLarge := echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the file is larger than the limit of %s", humanBytes(limit)))
	req := c.Request()
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEMultipartForm {
		return requests.Upload{}, echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"send the file as multipart/form-data in the field \"file\"")
	}
	if req.ContentLength > limit+MultipartOverhead {
		return requests.Upload{}, tooLarge
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit+MultipartOverhead)
	if err := req.ParseMultipartForm(limit + MultipartOverhead); err != nil {
		var maxErr *http.MaxBytesError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &maxErr), errors.Is(err, multipart.ErrMessageTooLarge):
			return requests.Upload{}, tooLarge
		case errors.As(err, &he):
			return requests.Upload{}, he
		}
		return requests.Upload{}, BadRequest("malformed_multipart", nil, "the multipart body could not be read")
	}
	form := req.MultipartForm
	files := form.File["file"]
	if len(files) != 1 {
		return requests.Upload{}, fault.Invalid("file", "send exactly one file in the multipart field \"file\"")
	}
	fh := files[0]
	if fh.Size > limit {
		return requests.Upload{}, tooLarge
	}
	var u requests.Upload
	switch internal := form.Value["internal"]; {
	case len(internal) == 0:
	case len(internal) == 1 && (internal[0] == "true" || internal[0] == "false"):
		u.Internal = internal[0] == "true"
	default:
		return requests.Upload{}, fault.Invalid("internal", "internal must be true or false")
	}
	// multipart.FileHeader.Filename is already reduced to its base name;
	// the Content-Disposition header has what the client really sent.
	_, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition"))
	if err != nil {
		return requests.Upload{}, BadRequest("malformed_multipart", nil, "the file part has no readable Content-Disposition")
	}
	u.Filename = params["filename"]
	f, err := fh.Open()
	if err != nil {
		return requests.Upload{}, fmt.Errorf("open uploaded file: %w", err)
	}
	defer f.Close()
	if u.Content, err = io.ReadAll(io.LimitReader(f, limit+1)); err != nil {
		return requests.Upload{}, fmt.Errorf("read uploaded file: %w", err)
	}
	if int64(len(u.Content)) > limit {
		return requests.Upload{}, tooLarge
	}
	return u, nil
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// ServeAttachment serves a file as a download of the type sniffed at
// upload, so a browser neither guesses the type nor renders it in place.
func (k *Kit) ServeAttachment(c echo.Context) error {
	id, err := PathID(c, "id", "request")
	if err != nil {
		return err
	}
	attachmentID, err := PathID(c, "attachment_id", "attachment")
	if err != nil {
		return err
	}
	a, content, err := requests.OpenAttachment(c.Request().Context(), k.DB, k.Viewer(c), id, attachmentID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, "attachment; filename*=UTF-8''"+encodeRFC5987(a.Filename))
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(content)))
	return c.Blob(http.StatusOK, a.ContentType, content)
}

// encodeRFC5987 percent-encodes s as an RFC 5987 ext-value, keeping only
// attr-chars as they are.
func encodeRFC5987(s string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(attrChars, c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
