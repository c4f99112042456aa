package common_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/modules/common"
)

// smtpMessage is one DATA transaction the fake SMTP server saw.
type smtpMessage struct {
	from string   // MAIL FROM
	rcpt []string // RCPT TO, in order
	data []byte
}

// smtpServer is an in-process SMTP server (no TLS, no auth) that records
// what it receives. It can refuse the first deliveries to one address with
// a temporary (4xx) error.
type smtpServer struct {
	port int

	mu       sync.Mutex
	attempts []smtpMessage // every DATA transaction
	accepted []smtpMessage // those answered 250

	refuseFor   string // refuse messages to this address…
	refuseTimes int    // …this many times
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 4 << 20
	srv.MaxRecipients = 200
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.port = lis.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// config is a common module configuration sending through s.
func (s *smtpServer) config() common.Config {
	return common.Config{
		SMTP:           common.SMTP{Host: "127.0.0.1", Port: s.port, TLS: "none", From: "Parley <parley@example.com>"},
		EmailRetryBase: 50 * time.Millisecond,
	}
}

func (s *smtpServer) receive(m smtpMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, m)
	if s.refuseFor != "" && slices.Contains(m.rcpt, s.refuseFor) && s.refuseTimes > 0 {
		s.refuseTimes--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox busy, try again later"}
	}
	s.accepted = append(s.accepted, m)
	return nil
}

// acceptedTo returns the messages accepted for address. The database (and
// so the job queue) is shared, so tests look only at their own addresses.
func (s *smtpServer) acceptedTo(address string) []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []smtpMessage
	for _, m := range s.accepted {
		if slices.Contains(m.rcpt, address) {
			out = append(out, m)
		}
	}
	return out
}

// attemptsTo counts the DATA transactions for address, accepted or not.
func (s *smtpServer) attemptsTo(address string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.attempts {
		if slices.Contains(m.rcpt, address) {
			n++
		}
	}
	return n
}

// waitFor waits for the one message accepted for address.
func (s *smtpServer) waitFor(t *testing.T, address string) smtpMessage {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.acceptedTo(address)) > 0 },
		15*time.Second, 10*time.Millisecond, "no email for %s", address)
	msgs := s.acceptedTo(address)
	require.Len(t, msgs, 1, "emails for %s", address)
	return msgs[0]
}

type smtpSession struct {
	srv  *smtpServer
	from string
	rcpt []string
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return s.srv.receive(smtpMessage{from: s.from, rcpt: slices.Clone(s.rcpt), data: data})
}

func (s *smtpSession) Reset() {
	s.from = ""
	s.rcpt = nil
}

func (s *smtpSession) Logout() error { return nil }

// parsedMail is a received message's headers decoded and its body.
type parsedMail struct {
	header  mail.Header
	from    []*mail.Address
	to      []*mail.Address
	cc      []*mail.Address
	subject string
	body    string // with LF line ends
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err, "message:\n%s", data)
	p := parsedMail{header: msg.Header}
	p.from, err = msg.Header.AddressList("From")
	require.NoError(t, err)
	p.to, err = msg.Header.AddressList("To")
	require.NoError(t, err)
	if msg.Header.Get("Cc") != "" {
		p.cc, err = msg.Header.AddressList("Cc")
		require.NoError(t, err)
	}
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)

	body := msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	p.body = strings.ReplaceAll(string(raw), "\r\n", "\n")
	return p
}

// names maps the addresses to their display names.
func names(list []*mail.Address) map[string]string {
	out := map[string]string{}
	for _, a := range list {
		out[a.Address] = a.Name
	}
	return out
}
