package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// Letter is one notification as an e-mail, before it becomes SMTP.
type Letter struct {
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string // without the angle brackets
	Thread    string // the Message-ID of the object's thread
	ReplyTo   string // empty for objects that take no replies
}

var htmlBody = htmltemplate.Must(htmltemplate.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.4">
<p>{{.Headline}}</p>
{{if .Note}}<blockquote style="border-left: 3px solid #ccc; margin: 0; padding-left: 1em; white-space: pre-wrap">{{.Note}}</blockquote>{{end}}
{{if .RateURL}}<p>{{.Rate}} <a href="{{.RateURL}}">{{.RateURL}}</a></p>
{{end}}<p><a href="{{.Link}}">{{.Open}}</a></p>
<p style="color: #666; font-size: 0.9em">{{.Footer}} <a href="{{.Settings}}">{{.Settings}}</a></p>
</body></html>
`))

// Compose writes the letter that tells user of ev, in the user's language.
// deliveryKey, unique per message, makes the Message-ID, so a message sent
// twice by an at-least-once retry is recognisably the same one.
func Compose(cfg Config, cat *i18n.Catalog, key []byte, ev notify.StoredEvent, user units.User, deliveryKey string) (Letter, error) {
	args := ev.Args()
	lang := user.Locale
	ref, title := oneLine(args["ref"]), oneLine(args["title"])
	label := cat.T(lang, "notify.kind."+string(ev.Kind))
	headline := cat.T(lang, "notify.text."+string(ev.Kind), ref, title)
	link := cfg.BaseURL + notify.LinkOf(ev)
	settings := cfg.BaseURL + "/notifications/settings"
	l := Letter{
		To: user.Email, ToName: oneLine(user.Name),
		Subject:   oneLine(cat.T(lang, "mail.subject", ref, title, label)),
		MessageID: fmt.Sprintf("tiski.%s@%s", strings.NewReplacer(":", ".").Replace(deliveryKey), cfg.domain()),
		Thread:    fmt.Sprintf("tiski.%s.%d@%s", ev.ObjectType, ev.ObjectID, cfg.domain()),
	}
	if ev.ObjectType == "request" {
		l.ReplyTo = ReplyAddress(cfg.From.Address, key, ev.ObjectID)
	}
	var text strings.Builder
	text.WriteString(headline + "\n\n")
	if note := args["note"]; note != "" {
		for _, line := range strings.Split(note, "\n") {
			text.WriteString("> " + line + "\n")
		}
		text.WriteString("\n")
	}
	if rate := args["rating_url"]; rate != "" {
		fmt.Fprintf(&text, "%s\n%s\n\n", cat.T(lang, "mail.rate"), rate)
	}
	fmt.Fprintf(&text, "%s\n%s\n\n-- \n%s\n%s\n", cat.T(lang, "mail.open"), link, cat.T(lang, "mail.footer"), settings)
	l.Text = text.String()
	var html bytes.Buffer
	err := htmlBody.Execute(&html, map[string]string{"Lang": lang, "Subject": l.Subject, "Headline": headline, "Note": args["note"],
		"Link": link, "Open": cat.T(lang, "mail.open"), "Footer": cat.T(lang, "mail.footer"), "Settings": settings,
		"Rate": cat.T(lang, "mail.rate"), "RateURL": args["rating_url"]})
	if err != nil {
		return Letter{}, fmt.Errorf("render mail: %w", err)
	}
	l.HTML = html.String()
	return l, nil
}

// Msg turns the letter into a message from cfg's sender. Every header value
// is one line: a name or subject carrying CR or LF cannot add headers.
func (l Letter) Msg(cfg Config, now time.Time) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.FromFormat(oneLine(cfg.From.Name), cfg.From.Address); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.AddToFormat(l.ToName, l.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", l.To, err)
	}
	if l.ReplyTo != "" {
		if err := m.ReplyTo(l.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
	}
	m.Subject(l.Subject)
	m.SetMessageIDWithValue(l.MessageID)
	m.SetGenHeader(gomail.HeaderInReplyTo, "<"+l.Thread+">")
	m.SetGenHeader(gomail.HeaderReferences, "<"+l.Thread+">")
	m.SetGenHeader("Auto-Submitted", "auto-generated") // no auto-replies back to us
	m.SetDateWithValue(now)
	m.SetBodyString(gomail.TypeTextPlain, l.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, l.HTML)
	return m, nil
}

// oneLine folds control characters (CR, LF, tabs and the like) into
// spaces, so text from users stays inside its header.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == ' ' }), " ")
}
