package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// Limits on the structure of one message: deeper nesting or more parts than
// this is not a person writing to the desk.
const (
	maxDepth    = 8
	maxParts    = 64
	maxBodyText = 20000 // runes, as a request's description
)

// letter is what Tiski reads from one message.
type letter struct {
	MessageID   string
	From        *mail.Address
	Subject     string
	References  []string // In-Reply-To and References, without angle brackets
	Recipients  []string // To, Cc, Delivered-To and X-Original-To, lower case
	Text        string   // the text part, or the HTML part reduced to text
	HTML        string   // the raw HTML part, to look for script
	Attachments []file   // the parts that are not the text or the HTML, decoded
}

// file is one attachment as it came, before the upload checks.
type file struct {
	Name    string
	Content []byte
}

// reject is a reason a message cannot be taken as it is.
type reject struct {
	reason Reason
	detail string
}

func (r *reject) Error() string { return string(r.reason) + ": " + r.detail }

func refuse(reason Reason, format string, args ...any) *reject {
	return &reject{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// readHeader parses the header alone, for a message too large to read whole.
func readHeader(raw []byte) (mail.Header, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return m.Header, nil
}

var words = &mime.WordDecoder{}

// parse reads raw into a letter, or says why it will not.
func parse(raw []byte) (*letter, *reject) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, refuse(ReasonMalformed, "the message cannot be parsed: %v", err)
	}
	h := m.Header
	if r := autoReply(h); r != nil {
		return nil, r
	}
	froms, err := h.AddressList("From")
	if err != nil || len(froms) != 1 {
		return nil, refuse(ReasonMalformed, "the message needs one From address")
	}
	from := froms[0]
	if hostile(from.Name) {
		return nil, refuse(ReasonHostileHeader, "the sender's name holds control characters")
	}
	if at := emailInName.FindString(from.Name); at != "" && !strings.EqualFold(at, from.Address) {
		return nil, refuse(ReasonSpoofedSender, "the sender's name shows %s but the address is %s", at, from.Address)
	}
	if local, _, _ := strings.Cut(strings.ToLower(from.Address), "@"); local == "mailer-daemon" || local == "postmaster" {
		return nil, refuse(ReasonBounce, "the message comes from %s", from.Address)
	}
	subject, err := words.DecodeHeader(h.Get("Subject"))
	if err != nil {
		return nil, refuse(ReasonMalformed, "the subject cannot be decoded: %v", err)
	}
	if hostile(subject) {
		return nil, refuse(ReasonHostileHeader, "the subject holds control characters")
	}
	l := &letter{MessageID: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"), From: from, Subject: strings.TrimSpace(subject)}
	for _, key := range []string{"In-Reply-To", "References"} {
		for _, ref := range strings.Fields(h.Get(key)) {
			l.References = append(l.References, strings.Trim(ref, "<>"))
		}
	}
	for _, key := range []string{"To", "Cc", "Delivered-To", "X-Original-To"} {
		list, err := h.AddressList(key)
		if err != nil && !errors.Is(err, mail.ErrHeaderNotPresent) {
			return nil, refuse(ReasonMalformed, "the %s header cannot be parsed", key)
		}
		for _, a := range list {
			l.Recipients = append(l.Recipients, strings.ToLower(a.Address))
		}
	}
	mt, params := contentType(h)
	if err := l.readBody(mt, params, h.Get("Content-Transfer-Encoding"), m.Body, 0); err != nil {
		return nil, err
	}
	if strings.TrimSpace(l.Text) == "" && l.HTML != "" {
		l.Text = htmlText(l.HTML)
	}
	if hasScript(l.HTML) {
		return nil, refuse(ReasonHTMLScript, "the HTML part holds script")
	}
	return l, nil
}

// autoReply names a message a machine sent: an auto-reply, a bounce or list
// traffic, which is never answered (no mail loops) and never filed.
func autoReply(h mail.Header) *reject {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return refuse(ReasonAutoReply, "Auto-Submitted: %s", v)
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "bulk", "junk", "list":
		return refuse(ReasonAutoReply, "Precedence: %s", v)
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" {
		return refuse(ReasonAutoReply, "the message says it is an automatic reply")
	}
	if strings.TrimSpace(h.Get("Return-Path")) == "<>" {
		return refuse(ReasonBounce, "the message has the null sender of a bounce")
	}
	if mt, _ := contentType(h); mt == "multipart/report" {
		return refuse(ReasonBounce, "the message is a delivery report")
	}
	return nil
}

func contentType(h interface{ Get(string) string }) (string, map[string]string) {
	raw := h.Get("Content-Type")
	if raw == "" {
		return "text/plain", nil
	}
	mt, params, err := mime.ParseMediaType(raw)
	if err != nil {
		return "application/octet-stream", nil
	}
	return mt, params
}

// readBody walks the MIME tree: the first text/plain part is the text, the
// first text/html part the HTML; every other leaf is an attachment.
func (l *letter) readBody(mt string, params map[string]string, encoding string, body io.Reader, depth int) *reject {
	parts := 0
	return l.walk(mt, params, encoding, "", body, depth, &parts)
}

func (l *letter) walk(mt string, params map[string]string, encoding, disposition string, body io.Reader, depth int, parts *int) *reject {
	if *parts++; *parts > maxParts || depth > maxDepth {
		return refuse(ReasonMalformed, "the message nests more than %d parts or %d levels", maxParts, maxDepth)
	}
	if strings.HasPrefix(mt, "multipart/") {
		if mt == "multipart/report" {
			return refuse(ReasonBounce, "the message holds a delivery report")
		}
		if params["boundary"] == "" {
			return refuse(ReasonMalformed, "a multipart part has no boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return refuse(ReasonMalformed, "a MIME part cannot be read: %v", err)
			}
			pmt, pparams := contentType(p.Header)
			if r := l.walk(pmt, pparams, p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, depth+1, parts); r != nil {
				return r
			}
		}
	}
	attached := strings.HasPrefix(strings.ToLower(strings.TrimSpace(disposition)), "attachment")
	if (mt == "text/plain" && l.Text == "" || mt == "text/html" && l.HTML == "") && !attached {
		text, err := decode(encoding, params["charset"], body)
		if err != nil {
			return refuse(ReasonMalformed, "a text part cannot be decoded: %v", err)
		}
		if mt == "text/plain" {
			l.Text = text
		} else {
			l.HTML = text
		}
		return nil
	}
	name := "unnamed"
	if _, dp, err := mime.ParseMediaType(disposition); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	} else if params["name"] != "" {
		name = params["name"]
	}
	if decoded, err := words.DecodeHeader(name); err == nil && !hostile(decoded) {
		name = decoded
	}
	content, err := io.ReadAll(io.LimitReader(transferDecoder(encoding, body), AttachmentLimit+1))
	if err != nil {
		return refuse(ReasonMalformed, "the attachment %s cannot be decoded: %v", clip(cleanText(name), 200), err)
	}
	if int64(len(content)) > AttachmentLimit {
		return refuse(ReasonOversized, "the attachment %s is larger than %d bytes", clip(cleanText(name), 200), AttachmentLimit)
	}
	l.Attachments = append(l.Attachments, file{Name: name, Content: content})
	return nil
}

func transferDecoder(encoding string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body)
	}
	return body
}

// decode reads a text part in its transfer encoding and charset (UTF-8,
// US-ASCII or ISO-8859-1; anything else is read as UTF-8) into valid UTF-8.
func decode(encoding, charset string, body io.Reader) (string, error) {
	b, err := io.ReadAll(transferDecoder(encoding, body))
	if err != nil {
		return "", err
	}
	if c := strings.ToLower(charset); c == "iso-8859-1" || c == "latin1" || c == "windows-1252" {
		runes := make([]rune, len(b))
		for i, c := range b {
			runes[i] = rune(c)
		}
		return cleanText(string(runes)), nil
	}
	return cleanText(string(b)), nil
}

// cleanText makes text fit for a description: valid UTF-8, line ends as
// \n, no control characters but tab and newline.
func cleanText(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// hostile reports a header value that, decoded, holds a line break or other
// control character: an attempt to inject headers through a subject or name.
func hostile(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s)
}

var (
	emailInName  = regexp.MustCompile(`[^\s<>"']+@[^\s<>"']+\.[^\s<>"']+`)
	scriptInHTML = regexp.MustCompile(`(?i)<\s*script|javascript:|\son[a-z]+\s*=`)
	htmlToText   = bluemonday.StrictPolicy()
)

func hasScript(h string) bool { return h != "" && scriptInHTML.MatchString(h) }

// htmlText reduces an HTML part to its text with the strict sanitiser:
// every tag goes, block ends become line breaks.
func htmlText(h string) string {
	h = blockEnd.ReplaceAllString(h, "\n$0")
	return cleanText(strings.TrimSpace(html.UnescapeString(htmlToText.Sanitize(h))))
}

var blockEnd = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h[1-6]>`)
