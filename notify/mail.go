package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// MailConfig is the SMTP server the service sends through.
type MailConfig struct {
	Addr     string // host:port; empty: no e-mail is sent
	From     string // the sender address
	StartTLS bool   // upgrade the connection with STARTTLS before sending
	Username string // with Password: AUTH PLAIN (only over STARTTLS or to loopback)
	Password string
	// TLS configures STARTTLS; nil: the system's roots, ServerName from Addr.
	TLS *tls.Config
}

// String names the server without the password, for logs.
func (c MailConfig) String() string {
	if c.Addr == "" {
		return "none"
	}
	s := "smtp://" + c.Addr
	if c.Username != "" {
		s = "smtp://" + c.Username + "@" + c.Addr
	}
	if c.StartTLS {
		s += " (STARTTLS)"
	}
	return s
}

// Validate checks the configuration before the service starts.
func (c MailConfig) Validate() error {
	if c.Addr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("SMTP server %q: want host:port", c.Addr)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("SMTP sender %q: not an e-mail address", c.From)
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("SMTP authentication needs both a user name and a password")
	}
	return nil
}

// errNoMail is the error of a job that must wait for an SMTP server.
var errNoMail = errors.New("no SMTP server configured")

// message is one e-mail to send.
type message struct {
	To         string
	Subject    string
	Body       string
	MessageID  string // stable per job, so a receiver can tell a repeat
	Attachment []byte
	FileName   string
}

// send delivers m through the configured server on a session of its
// own. Errors name the server but never the password.
func (c MailConfig) send(ctx context.Context, m message) error { return c.sendKept(ctx, nil, m) }

// sendKept delivers m on a session kept open by keep (nil: a session of
// its own, closed after), greeting a new one only when none is kept. A
// kept session the server closed meanwhile is given up and the e-mail
// sent on a new one; a refusal by the server is returned. Errors name the
// server but never the password.
func (c MailConfig) sendKept(ctx context.Context, keep *mailSessions, m message) error {
	if c.Addr == "" {
		return errNoMail
	}
	raw, err := m.render(c.From)
	if err != nil {
		return err
	}
	to, _ := mail.ParseAddress(m.To) // render checked it
	for {
		s, kept := keep.take()
		if s == nil {
			if s, err = c.dial(ctx); err != nil {
				return err
			}
		}
		if deadline, ok := ctx.Deadline(); ok {
			_ = s.conn.SetDeadline(deadline)
		} else {
			_ = s.conn.SetDeadline(time.Now().Add(2 * time.Minute))
		}
		err := s.client.SendMail(c.From, []string{to.Address}, bytes.NewReader(raw))
		if err == nil {
			if keep.put(s) {
				return nil
			}
			defer s.client.Close()
			return s.client.Quit()
		}
		s.client.Close()
		var refused *smtp.SMTPError
		if kept && !errors.As(err, &refused) {
			continue // the kept session was closed: on another
		}
		return fmt.Errorf("SMTP %s: send to %s: %w", c.Addr, m.To, err)
	}
}

// smtpSession is a greeted (and authenticated) session with the server.
type smtpSession struct {
	conn   net.Conn
	client *smtp.Client
	idle   time.Time // since when it was kept unused
}

// dial opens a session: TCP, STARTTLS when configured, AUTH when a user
// is configured.
func (c MailConfig) dial(ctx context.Context) (*smtpSession, error) {
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("SMTP %s: %w", c.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	}
	var client *smtp.Client
	if c.StartTLS {
		cfg := c.TLS
		if cfg == nil {
			host, _, _ := net.SplitHostPort(c.Addr)
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if client, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("SMTP %s: STARTTLS: %w", c.Addr, err)
		}
	} else {
		client = smtp.NewClient(conn)
	}
	if c.Username != "" {
		if err := client.Auth(sasl.NewPlainClient("", c.Username, c.Password)); err != nil {
			client.Close()
			return nil, fmt.Errorf("SMTP %s: authentication as %s refused: %s", c.Addr, c.Username, smtpCode(err))
		}
	}
	return &smtpSession{conn: conn, client: client}, nil
}

// mailSessions keeps SMTP sessions open between e-mails: each e-mail
// dialled, greeted (STARTTLS, AUTH) and quit the server, several round
// trips and a TLS handshake more than the message itself, two e-mails
// per approval at the office's pace. At most cap(idle) are kept, none
// longer than mailSessionIdle unused (servers close idle sessions).
type mailSessions struct{ idle chan *smtpSession }

const mailSessionIdle = 30 * time.Second

func newMailSessions(n int) *mailSessions { return &mailSessions{idle: make(chan *smtpSession, n)} }

// take is a kept session, if one is fresh enough (nil, false otherwise).
func (k *mailSessions) take() (*smtpSession, bool) {
	if k == nil {
		return nil, false
	}
	for {
		select {
		case s := <-k.idle:
			if time.Since(s.idle) < mailSessionIdle {
				return s, true
			}
			s.client.Close()
		default:
			return nil, false
		}
	}
}

// put keeps s for the next e-mail; false when enough are kept.
func (k *mailSessions) put(s *smtpSession) bool {
	if k == nil {
		return false
	}
	s.idle = time.Now()
	select {
	case k.idle <- s:
		return true
	default:
		return false
	}
}

// close quits every kept session.
func (k *mailSessions) close() {
	for {
		select {
		case s := <-k.idle:
			_ = s.conn.SetDeadline(time.Now().Add(5 * time.Second))
			_ = s.client.Quit()
			s.client.Close()
		default:
			return
		}
	}
}

// smtpCode keeps only the server's code of an authentication failure: its
// text might echo what was sent.
func smtpCode(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("code %d", se.Code)
	}
	return "connection failed"
}

// render writes m as a MIME message: a text part and, when there is one,
// the PDF attachment.
func (m message) render(from string) ([]byte, error) {
	// Only the bare address goes into the header: a display name or a
	// comment ("a@b.vn (x\r\nBcc: …)") parses as one address yet would
	// carry a line break into the header as written.
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: not an e-mail address", m.To)
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", "<"+to.Address+">")
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", m.MessageID)
	h("MIME-Version", "1.0")
	text := base64Lines([]byte(m.Body))
	if m.Attachment == nil {
		h("Content-Type", `text/plain; charset="utf-8"`)
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		b.WriteString(text)
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {`text/plain; charset="utf-8"`}, "Content-Transfer-Encoding": {"base64"}})
	if err != nil {
		return nil, err
	}
	io.WriteString(part, text)
	part, err = mw.CreatePart(textproto.MIMEHeader{
		// The name is a quoted parameter: a '"' in an uploaded file's name
		// must not end it (FormatMediaType quotes and escapes).
		"Content-Type":              {mime.FormatMediaType("application/pdf", map[string]string{"name": m.FileName})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": m.FileName})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	io.WriteString(part, base64Lines(m.Attachment))
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// base64Lines encodes b in lines of 76 characters, as MIME wants.
func base64Lines(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var s strings.Builder
	for len(enc) > 76 {
		s.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	s.WriteString(enc + "\r\n")
	return s.String()
}

// emailArgs is the e-mail telling one user of one event.
type emailArgs struct {
	EventID string `json:"event_id"`
	UserID  string `json:"user_id"`
}

func (emailArgs) Kind() string                         { return "notify-email" }
func (emailArgs) InsertOpts() river.InsertOpts         { return river.InsertOpts{UniqueOpts: unique} }
func (deliveryEmailArgs) Kind() string                 { return "issue-email" }
func (deliveryEmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: unique} }

type emailWorker struct {
	river.WorkerDefaults[emailArgs]
	e *Engine
}

func (w *emailWorker) Work(ctx context.Context, job *river.Job[emailArgs]) error {
	var to, kind, summary, docID string
	var on bool
	// On the queue's connections: the 4 of the service's pool are the
	// requests'.
	err := w.e.queue.QueryRow(ctx, `SELECT p.email, p.email_on, ev.kind, ev.summary, coalesce(ev.document_id::text, '')
		FROM notify_events ev, notification_preferences p WHERE ev.id = $1 AND p.user_id = $2`,
		job.Args.EventID, job.Args.UserID).Scan(&to, &on, &kind, &summary, &docID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !on) {
		return nil // the user turned e-mail off meanwhile
	}
	if err != nil {
		return fmt.Errorf("notification e-mail: %w", err)
	}
	body := summary + "\r\n\r\n" + "Sự kiện: " + kind + "\r\n"
	if docID != "" {
		body += "Văn bản: " + docID + "\r\n"
	}
	return w.e.cfg.Mail.sendKept(ctx, w.e.mail, message{To: to, Subject: summary, Body: body,
		MessageID: "<notify-" + job.Args.EventID + "-" + job.Args.UserID + "@vanthu>"})
}

// deliveryEmailArgs sends an issued document to an outside address.
type deliveryEmailArgs struct {
	DeliveryID string `json:"delivery_id"`
}

type deliveryEmailWorker struct {
	river.WorkerDefaults[deliveryEmailArgs]
	e *Engine
}

// Timeout leaves room for a large document on a slow mail server.
func (w *deliveryEmailWorker) Timeout(*river.Job[deliveryEmailArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *deliveryEmailWorker) Work(ctx context.Context, job *river.Job[deliveryEmailArgs]) error {
	var to, name, subject, number, blobKey, fileName string
	var mailed bool
	err := w.e.db.Pool.QueryRow(ctx, `
		SELECT d.email, d.name, doc.subject, coalesce(doc.number, ''), d.mailed_at IS NOT NULL, v.blob_key, v.file_name
		FROM document_deliveries d JOIN documents doc ON doc.id = d.document_id
		JOIN LATERAL (SELECT blob_key, file_name FROM document_versions WHERE document_id = d.document_id
			ORDER BY number DESC LIMIT 1) v ON true
		WHERE d.id = $1 AND d.channel = 'email'`, job.Args.DeliveryID).
		Scan(&to, &name, &subject, &number, &mailed, &blobKey, &fileName)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("delivery %s: no e-mail delivery of a document with a file", job.Args.DeliveryID))
	}
	if err != nil {
		return fmt.Errorf("delivery e-mail: %w", err)
	}
	if mailed {
		return nil
	}
	if w.e.cfg.Blobs == nil {
		return fmt.Errorf("delivery e-mail: no blob store")
	}
	rc, err := w.e.cfg.Blobs.Open(ctx, blobKey, 0, -1)
	if err != nil {
		return fmt.Errorf("delivery e-mail: open the sealed file: %w", err)
	}
	pdf, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("delivery e-mail: read the sealed file: %w", err)
	}
	title := subject
	if number != "" {
		title = number + " " + subject
	}
	body := "Kính gửi: " + name + "\r\n\r\nGửi kèm văn bản " + title + " (bản điện tử đã ký số).\r\n"
	sendErr := w.e.cfg.Mail.send(ctx, message{To: to, Subject: title, Body: body, Attachment: pdf, FileName: pdfName(fileName),
		MessageID: "<issue-" + job.Args.DeliveryID + "@vanthu>"})
	if sendErr != nil {
		// The sender sees why it has not gone yet; the job retries.
		if _, err := w.e.db.Pool.Exec(ctx, "UPDATE document_deliveries SET mail_error = $2, updated_at = now() WHERE id = $1",
			job.Args.DeliveryID, truncate(sendErr.Error(), 500)); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	}
	if _, err := w.e.db.Pool.Exec(ctx, `UPDATE document_deliveries SET status = 'sent', mailed_at = now(), mail_error = '', updated_at = now()
		WHERE id = $1`, job.Args.DeliveryID); err != nil {
		return fmt.Errorf("delivery e-mail: mark mailed: %w", err)
	}
	return nil
}

func pdfName(name string) string {
	if name == "" {
		return "van-ban.pdf"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	return name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// randomSecret returns n random bytes in hex.
func randomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
