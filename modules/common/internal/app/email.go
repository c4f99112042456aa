package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	netmail "net/mail"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/wneessen/go-mail"

	"github.com/parley-im/parley/modules/common/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
)

// SMTP is where emails are sent. An empty Host writes each email to the
// log instead and counts it as sent.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "starttls" (required), "tls" (implicit, as on port 465) or
	// "none" (for a local relay or a test server).
	TLS  string
	From string
}

// Address is an email address with its display name.
type Address struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// Email is a validated SendEmail request.
type Email struct {
	Receivers []Address
	Cc        []Address
	Subject   string
	Content   string
}

var ErrNotAdmin = apperr.PermissionDenied("only admins may send email")

// sendEmailArgs is the River job that sends one accepted email.
type sendEmailArgs struct {
	EmailID int64 `json:"email_id"`
}

func (sendEmailArgs) Kind() string { return "send_email" }

// SendEmail accepts an email: it is stored with the job that sends it in
// one transaction, so once this returns the email is sent eventually, across
// crashes and restarts, with retries.
func (s *Service) SendEmail(ctx context.Context, caller auth.Identity, e Email) error {
	if !caller.Admin {
		return ErrNotAdmin
	}
	receivers, err := json.Marshal(e.Receivers)
	if err != nil {
		return err
	}
	cc, err := json.Marshal(e.Cc)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		email, err := s.q.WithTx(tx).CreateEmail(ctx, db.CreateEmailParams{
			RequestedBy: int64(caller.UserID), Receivers: receivers, Cc: cc, Subject: e.Subject, Content: e.Content,
		})
		if err != nil {
			return err
		}
		_, err = s.jobs.InsertTx(ctx, tx, sendEmailArgs{EmailID: email.ID}, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("accept email: %w", err)
	}
	return nil
}

// emailWorker delivers accepted emails.
type emailWorker struct {
	river.WorkerDefaults[sendEmailArgs]
	svc *Service
}

func (w *emailWorker) Work(ctx context.Context, job *river.Job[sendEmailArgs]) error {
	s := w.svc
	email, err := s.q.GetEmail(ctx, job.Args.EmailID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("email %d no longer exists", job.Args.EmailID))
	}
	if err != nil {
		return err
	}
	if err := s.deliver(ctx, email); err != nil {
		lastAttempt := job.Attempt >= job.MaxAttempts
		if dbErr := s.q.EmailAttempted(ctx, db.EmailAttemptedParams{ID: email.ID, LastError: err.Error(), Failed: lastAttempt}); dbErr != nil {
			return dbErr
		}
		return err // River retries it later
	}
	return s.q.EmailSent(ctx, email.ID)
}

// deliver sends email over SMTP, or logs it when no SMTP host is set.
func (s *Service) deliver(ctx context.Context, email db.CommonEmail) error {
	var receivers, cc []Address
	if err := json.Unmarshal(email.Receivers, &receivers); err != nil {
		return err
	}
	if err := json.Unmarshal(email.Cc, &cc); err != nil {
		return err
	}
	if s.cfg.SMTP.Host == "" {
		s.log.Info().Int64("email", email.ID).Interface("to", receivers).Interface("cc", cc).
			Str("subject", email.Subject).Str("content", email.Content).
			Msg("email (no SMTP host configured: logged instead of sent)")
		return nil
	}
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.SMTP.From); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	// net/mail quotes or encodes display names as RFC 5322 wants, whatever
	// quotes, backslashes or script they hold.
	for _, r := range receivers {
		if err := msg.AddTo((&netmail.Address{Name: r.Name, Address: r.Address}).String()); err != nil {
			return err
		}
	}
	for _, c := range cc {
		if err := msg.AddCc((&netmail.Address{Name: c.Name, Address: c.Address}).String()); err != nil {
			return err
		}
	}
	msg.Subject(email.Subject)
	msg.SetBodyString(mail.TypeTextPlain, email.Content)
	msg.SetMessageID()
	msg.SetDate()

	client, err := s.smtpClient()
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msg)
}

func (s *Service) smtpClient() (*mail.Client, error) {
	c := s.cfg.SMTP
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(30 * time.Second)}
	switch c.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	return mail.NewClient(c.Host, opts...)
}

// backoff retries failed jobs after base, 2·base, 4·base … capped at an hour.
type backoff struct{ base time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	delay := float64(b.base) * math.Pow(2, float64(job.Attempt-1))
	return time.Now().Add(time.Duration(min(delay, float64(time.Hour))))
}
