package common_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/platform/storage"
	"github.com/parley-im/parley/platform/testkit"
)

// The tests that start an email worker (setup with run: true, or run) are
// not parallel: see TestMain.

// emailRow is a common.emails row.
type emailRow struct {
	id          int64
	requestedBy int64
	receivers   []address
	cc          []address
	subject     string
	content     string
	status      string
	attempts    int
	lastError   string
	sentAt      *time.Time
}

type address struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// email reads the email with subject (subjects are unique per test); ok is
// false when there is none.
func (e *env) email(t *testing.T, subject string) (row emailRow, ok bool) {
	t.Helper()
	var receivers, cc []byte
	err := e.pool.QueryRow(context.Background(), `
		SELECT id, requested_by, receivers, cc, subject, content, status, attempts, last_error, sent_at
		FROM common.emails WHERE subject = $1`, subject).
		Scan(&row.id, &row.requestedBy, &receivers, &cc, &row.subject, &row.content,
			&row.status, &row.attempts, &row.lastError, &row.sentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return emailRow{}, false
	}
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(receivers, &row.receivers))
	require.NoError(t, json.Unmarshal(cc, &row.cc))
	return row, true
}

func (e *env) mustEmail(t *testing.T, subject string) emailRow {
	t.Helper()
	row, ok := e.email(t, subject)
	require.True(t, ok, "no email row with subject %q", subject)
	return row
}

// waitSent waits for the email to leave the queue and requires it sent.
func (e *env) waitSent(t *testing.T, subject string) emailRow {
	t.Helper()
	require.Eventually(t, func() bool { return e.mustEmail(t, subject).status != "queued" },
		15*time.Second, 10*time.Millisecond, "email %q still queued", subject)
	row := e.mustEmail(t, subject)
	require.Equal(t, "sent", row.status, "last error: %s", row.lastError)
	return row
}

// emailsBy counts the emails p requested.
func (e *env) emailsBy(t *testing.T, p person) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM common.emails WHERE requested_by = $1`, int64(p.id)).Scan(&n))
	return n
}

// job is the River job that sends email id.
type job struct {
	state   string
	attempt int
}

func (e *env) job(t *testing.T, emailID int64) job {
	t.Helper()
	var j job
	err := e.pool.QueryRow(context.Background(), `
		SELECT state, attempt FROM common.river_job
		WHERE kind = 'send_email' AND (args->>'email_id')::bigint = $1`, emailID).Scan(&j.state, &j.attempt)
	require.NoError(t, err, "the job of email %d", emailID)
	return j
}

// waitJobCompleted waits for River to record the job completed (it does so
// in batches, just after the work returns).
func (e *env) waitJobCompleted(t *testing.T, emailID int64) job {
	t.Helper()
	require.Eventually(t, func() bool { return e.job(t, emailID).state == "completed" },
		10*time.Second, 10*time.Millisecond, "the job of email %d did not complete", emailID)
	return e.job(t, emailID)
}

func sendEmail(t *testing.T, e *env, p person, req *commonpb.SendEmailRequest) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_, err := e.common.SendEmail(ctx, req)
	return err
}

// addr is a unique address at domain.
func addr(name, domain string) string { return testkit.Unique(name+"-") + "@" + domain }

func TestSendEmailDelivers(t *testing.T) {
	mta := startSMTP(t)
	e := setup(t, options{cfg: mta.config(), run: true})
	admin := e.signUpAdmin(t, "admin")

	ann, zoe := addr("ann", "example.com"), addr("zoe", "example.org")
	carol, dave := addr("carol", "example.net"), addr("dave", "example.net")
	subject := "你好 Parley ✓ " + testkit.Unique("")
	content := "Hello Ann,\n\nWelcome to Parley — ünïcödé ✓.\n.\n..a line of dots\n\nBye\n"
	require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
		Receiver: map[string]string{"Ann Example": ann, "Zoë Ünicode": zoe},
		Cc:       map[string]string{"Doe, Carol": carol, "": dave},
		Subject:  "  " + subject + "\n", // trimmed
		Content:  content,
	}))

	// Stored before SendEmail returned.
	row := e.mustEmail(t, subject)
	require.Equal(t, int64(admin.id), row.requestedBy)
	require.Contains(t, []string{"queued", "sent"}, row.status)

	msg := mta.waitFor(t, ann)
	require.Equal(t, "parley@example.com", msg.from)
	require.ElementsMatch(t, []string{ann, zoe, carol, dave}, msg.rcpt, "cc recipients are in the envelope")

	mail := parseMail(t, msg.data)
	require.Equal(t, map[string]string{"parley@example.com": "Parley"}, names(mail.from))
	require.Equal(t, map[string]string{ann: "Ann Example", zoe: "Zoë Ünicode"}, names(mail.to))
	require.Equal(t, map[string]string{carol: "Doe, Carol", dave: ""}, names(mail.cc))
	require.Equal(t, subject, mail.subject)
	require.True(t, isASCII(mail.header.Get("Subject")), "the subject is MIME-encoded: %q", mail.header.Get("Subject"))
	require.Equal(t, content, mail.body)
	require.Empty(t, mail.header.Get("Bcc"))
	require.Contains(t, strings.ToLower(mail.header.Get("Content-Type")), "charset=utf-8")

	row = e.waitSent(t, subject)
	require.NotNil(t, row.sentAt)
	require.Equal(t, 1, row.attempts)
	require.Empty(t, row.lastError)
	e.waitJobCompleted(t, row.id)
	require.Len(t, mta.acceptedTo(ann), 1)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSendEmailRetriesTemporaryFailures(t *testing.T) {
	mta := startSMTP(t)
	ann := addr("ann", "example.com")
	mta.refuseFor, mta.refuseTimes = ann, 2
	e := setup(t, options{cfg: mta.config(), run: true})
	admin := e.signUpAdmin(t, "admin")
	subject := testkit.Unique("retry ")

	require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
		Receiver: map[string]string{"Ann": ann}, Subject: subject, Content: "third time lucky",
	}))
	// Between the attempts the failure is on record.
	require.Eventually(t, func() bool {
		row := e.mustEmail(t, subject)
		return row.status == "queued" && row.attempts >= 1 && strings.Contains(row.lastError, "451")
	}, 15*time.Second, 5*time.Millisecond, "the refused attempt was not recorded")

	msg := mta.waitFor(t, ann)
	require.Equal(t, "third time lucky", strings.TrimRight(parseMail(t, msg.data).body, "\n"))
	row := e.waitSent(t, subject)
	require.Equal(t, 3, row.attempts)
	require.Empty(t, row.lastError)
	require.NotNil(t, row.sentAt)
	require.Equal(t, 3, e.waitJobCompleted(t, row.id).attempt)

	// Exactly once: no attempt after the accepted one.
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 3, mta.attemptsTo(ann))
	require.Len(t, mta.acceptedTo(ann), 1)
}

// An accepted email waits in the database until a worker runs: here a
// module that never runs its worker accepts it, and a second module on the
// same database (Parley restarted) sends it.
func TestSendEmailSurvivesUntilAWorkerRuns(t *testing.T) {
	mta := startSMTP(t)
	e := setup(t, options{cfg: mta.config()}) // no worker
	admin := e.signUpAdmin(t, "admin")
	ann := addr("ann", "example.com")
	subject := testkit.Unique("durable ")

	require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
		Receiver: map[string]string{"Ann": ann}, Subject: subject, Content: "still here",
	}))
	row := e.mustEmail(t, subject)
	require.Equal(t, "queued", row.status)
	require.Zero(t, row.attempts)
	require.Nil(t, row.sentAt)
	require.Equal(t, "available", e.job(t, row.id).state)
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, mta.acceptedTo(ann))
	require.Equal(t, "queued", e.mustEmail(t, subject).status)

	store, err := storage.NewFS(t.TempDir())
	require.NoError(t, err)
	cfg := mta.config()
	cfg.SpoolDir = store.TempDir()
	restarted, err := common.New(e.pool, store, e.links, common.Content{}, cfg, zerolog.Nop())
	require.NoError(t, err)
	run(t, restarted)

	msg := mta.waitFor(t, ann)
	require.Equal(t, subject, parseMail(t, msg.data).subject)
	row = e.waitSent(t, subject)
	require.Equal(t, 1, row.attempts)
	e.waitJobCompleted(t, row.id)
}

// syncBuffer is a bytes.Buffer safe for the worker to write while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSendEmailWithoutSMTPHostIsLogged(t *testing.T) {
	var logs syncBuffer
	log := zerolog.New(&logs)
	e := setup(t, options{cfg: common.Config{EmailRetryBase: 50 * time.Millisecond}, log: &log, run: true})
	admin := e.signUpAdmin(t, "admin")
	ann, carol := addr("ann", "example.com"), addr("carol", "example.net")
	subject := testkit.Unique("logged ")

	require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
		Receiver: map[string]string{"Ann": ann}, Cc: map[string]string{"Carol": carol},
		Subject: subject, Content: "into the log",
	}))
	row := e.waitSent(t, subject)
	require.NotNil(t, row.sentAt)

	var entry struct {
		Email   int64     `json:"email"`
		To      []address `json:"to"`
		Cc      []address `json:"cc"`
		Subject string    `json:"subject"`
		Content string    `json:"content"`
		Message string    `json:"message"`
	}
	found := false
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), subject) {
			continue
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &entry))
		found = true
	}
	require.True(t, found, "no log line with the email; the log:\n%s", logs.String())
	require.Equal(t, row.id, entry.Email)
	require.Equal(t, []address{{ann, "Ann"}}, entry.To)
	require.Equal(t, []address{{carol, "Carol"}}, entry.Cc)
	require.Equal(t, "into the log", entry.Content)
	require.Contains(t, entry.Message, "no SMTP host")
}

// The display names SendEmail accepts arrive as they were given. Names are
// validated as plain text (no control characters); quotes and backslashes
// are plain text.
func TestSendEmailDisplayNamesArriveIntact(t *testing.T) {
	mta := startSMTP(t)
	cfg := mta.config()
	cfg.EmailMaxAttempts = 2 // a message that cannot be built fails fast
	e := setup(t, options{cfg: cfg, run: true})
	admin := e.signUpAdmin(t, "admin")

	type sent struct{ name, address, subject string }
	var emails []sent
	for _, name := range []string{
		`Doe, John`,
		`Zoë Ünicode`,
		`O'Brien <not an address>`,
		`Dana "DJ" Jones`,
		`Dana "DJ`,
		`C:\Users\ann`,
		`Ann\`,
	} {
		s := sent{name, addr("someone", "example.com"), testkit.Unique("names ")}
		require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
			Receiver: map[string]string{name: s.address}, Subject: s.subject, Content: "hello",
		}))
		emails = append(emails, s)
	}
	for _, s := range emails {
		t.Run(s.name, func(t *testing.T) {
			e.waitSent(t, s.subject)
			mail := parseMail(t, mta.waitFor(t, s.address).data)
			require.Equal(t, map[string]string{s.address: s.name}, names(mail.to))
		})
	}
}

func TestSendEmailOnlyAdmins(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	user := e.signUp(t, "user")
	req := &commonpb.SendEmailRequest{
		Receiver: map[string]string{"Ann": addr("ann", "example.com")}, Subject: testkit.Unique("not allowed "), Content: "hi",
	}

	testkit.RequireCode(t, sendEmail(t, e, user, req), codes.PermissionDenied)
	testkit.RequireCode(t, sendEmail(t, e, person{ctx: context.Background()}, req), codes.Unauthenticated)
	_, stored := e.email(t, req.GetSubject())
	require.False(t, stored)
	require.Zero(t, e.emailsBy(t, user))
}

func TestSendEmailValidation(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	admin := e.signUpAdmin(t, "admin")

	many := func(n int, prefix string) map[string]string {
		out := map[string]string{}
		for i := range n {
			out[fmt.Sprintf("%s %d", prefix, i)] = fmt.Sprintf("%s%d@example.com", prefix, i)
		}
		return out
	}
	ann := map[string]string{"Ann": "ann@example.com"}
	for _, tc := range []struct {
		name  string
		edit  func(r *commonpb.SendEmailRequest)
		field string // the message starts with it
	}{
		{"no receivers", func(r *commonpb.SendEmailRequest) { r.Receiver = nil }, "receiver:"},
		{"51 receivers", func(r *commonpb.SendEmailRequest) { r.Receiver = many(51, "r") }, "receiver:"},
		{"51 cc", func(r *commonpb.SendEmailRequest) { r.Cc = many(51, "c") }, "cc:"},
		{"receiver not an address", func(r *commonpb.SendEmailRequest) { r.Receiver = map[string]string{"": "not-an-address"} }, "receiver:"},
		{"receiver address with a display name", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"": "Ann <ann@example.com>"}
		}, "receiver:"},
		{"receiver address with a header after it", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"": "ann@example.com\r\nBcc: evil@example.com"}
		}, "receiver:"},
		{"two addresses in one value", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"": "ann@example.com, evil@example.com"}
		}, "receiver:"},
		{"cc not an address", func(r *commonpb.SendEmailRequest) { r.Cc = map[string]string{"": "carol at example.net"} }, "cc:"},
		{"receiver name with CR LF", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"Ann\r\nBcc: evil@example.com": "ann@example.com"}
		}, "receiver name:"},
		{"receiver name with LF", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"Ann\nBcc: evil@example.com": "ann@example.com"}
		}, "receiver name:"},
		{"cc name with CR", func(r *commonpb.SendEmailRequest) { r.Cc = map[string]string{"Carol\r": "carol@example.net"} }, "cc name:"},
		{"receiver name of 201 characters", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{strings.Repeat("é", 201): "ann@example.com"}
		}, "receiver name:"},
		{"the seed's meaning read the other way round (address → name)", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"ann@example.com": "Ann"}
		}, "receiver:"},
		{"one address under two names", func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"Ann": "ann@example.com", "Annie": "Ann@Example.com"}
		}, "receiver:"},
		{"empty subject", func(r *commonpb.SendEmailRequest) { r.Subject = "" }, "subject:"},
		{"blank subject", func(r *commonpb.SendEmailRequest) { r.Subject = " \t\r\n " }, "subject:"},
		{"201-character subject", func(r *commonpb.SendEmailRequest) { r.Subject = strings.Repeat("é", 201) }, "subject:"},
		{"subject with a Bcc header after CR LF", func(r *commonpb.SendEmailRequest) {
			r.Subject = "Hello\r\nBcc: evil@example.com"
		}, "subject:"},
		{"subject with a header after LF", func(r *commonpb.SendEmailRequest) {
			r.Subject = "Hello\nX-Evil: yes"
		}, "subject:"},
		{"content over 100 KiB", func(r *commonpb.SendEmailRequest) { r.Content = strings.Repeat("a", 100<<10+1) }, "content:"},
		{"content with NUL", func(r *commonpb.SendEmailRequest) { r.Content = "hello\x00world" }, "content:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &commonpb.SendEmailRequest{Receiver: ann, Subject: testkit.Unique("valid "), Content: "hello"}
			tc.edit(req)
			st := testkit.RequireCode(t, sendEmail(t, e, admin, req), codes.InvalidArgument)
			require.True(t, strings.HasPrefix(st.Message(), tc.field), "message %q does not name %q", st.Message(), tc.field)
		})
	}
	require.Zero(t, e.emailsBy(t, admin), "a refused email was stored")
}

// The limits themselves are accepted (and stored; no worker runs in this
// test, so nothing is sent).
func TestSendEmailAcceptsTheLimits(t *testing.T) {
	t.Parallel()
	e := setup(t, options{})
	admin := e.signUpAdmin(t, "admin")
	receivers, cc := map[string]string{}, map[string]string{}
	for i := range 50 {
		receivers[fmt.Sprintf("%03d", i)+strings.Repeat("n", 197)] = fmt.Sprintf("r%d-%s@example.com", i, testkit.Unique(""))
		cc[fmt.Sprintf("Cc %d", i)] = fmt.Sprintf("c%d-%s@example.com", i, testkit.Unique(""))
	}
	sfx := testkit.Unique("")
	subject := strings.Repeat("é", 200-len(sfx)) + sfx
	content := strings.Repeat("line\n", 100<<10/5)
	require.Len(t, content, 100<<10)

	require.NoError(t, sendEmail(t, e, admin, &commonpb.SendEmailRequest{
		Receiver: receivers, Cc: cc, Subject: " " + subject + " ", Content: content,
	}))
	row := e.mustEmail(t, subject)
	require.Len(t, row.receivers, 50)
	require.Len(t, row.cc, 50)
	require.Equal(t, content, row.content)
	require.Equal(t, "queued", row.status)
}
