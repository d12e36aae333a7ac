package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	gomail "github.com/wneessen/go-mail"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// Sender delivers the outbox's e-mail channel over SMTP.
type Sender struct {
	DB       bun.IDB
	Config   Config
	Catalog  *i18n.Catalog
	ReplyKey []byte
	Timeout  time.Duration // per connection (30 s); keep it below the outbox lease
}

// Deliver composes and sends one message. A recipient who is gone, disabled
// or has no usable address fails at once; a 4xx from the server or a lost
// connection is retried; a 5xx is permanent.
func (s *Sender) Deliver(ctx context.Context, m outbox.Message) error {
	if m.RecipientID == nil {
		return outbox.Permanent(errors.New("an e-mail without a recipient"))
	}
	ev, err := notify.GetEvent(ctx, s.DB, m.EventID)
	if err != nil {
		return permanentIfNotFound(err)
	}
	user, err := units.GetUser(ctx, s.DB, *m.RecipientID)
	if err != nil {
		return permanentIfNotFound(err)
	}
	if user.Disabled {
		return outbox.Permanent(fmt.Errorf("user %d is disabled", user.ID))
	}
	if err := s.addRatingURL(ctx, ev); err != nil {
		return err
	}
	letter, err := Compose(s.Config, s.Catalog, s.ReplyKey, *ev, *user, m.DeliveryKey)
	if err != nil {
		return outbox.Permanent(err)
	}
	msg, err := letter.Msg(s.Config, time.Now())
	if err != nil {
		return outbox.Permanent(err)
	}
	client, err := s.client()
	if err != nil {
		return outbox.Permanent(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.Reason != gomail.ErrConnCheck && se.Reason != gomail.ErrSMTPReset {
			return outbox.Permanent(err)
		}
		return err
	}
	return nil
}

// addRatingURL puts the one-click rating address into the words of an
// event that carries a rating link: the token is signed from the link's
// id, so every attempt writes the same one.
func (s *Sender) addRatingURL(ctx context.Context, ev *notify.StoredEvent) error {
	args := ev.Args()
	id, err := strconv.ParseInt(args["rating_link"], 10, 64)
	if err != nil || id <= 0 {
		return nil
	}
	key, err := requests.RatingKey(ctx, s.DB)
	if err != nil {
		return err
	}
	args["rating_url"] = requests.RatingURL(s.Config.BaseURL, requests.RatingToken(key, id))
	b, err := json.Marshal(args)
	if err != nil {
		return outbox.Permanent(err)
	}
	ev.ArgsJSON = string(b)
	return nil
}

func (s *Sender) client() (*gomail.Client, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.Config.Port), gomail.WithTimeout(timeout), gomail.WithHELO(s.Config.domain())}
	if s.Config.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.Config.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Config.Username), gomail.WithPassword(s.Config.Password))
	}
	c, err := gomail.NewClient(s.Config.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return c, nil
}

func permanentIfNotFound(err error) error {
	if fault.Is(err, fault.KindNotFound) {
		return outbox.Permanent(err)
	}
	return err
}
