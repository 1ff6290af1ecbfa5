package notify

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"strings"
	"testing"
)

func TestPublicAddress(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"203.0.113.7", true},
		{"8.8.8.8", true},
		{"2001:4860:4860::8888", true},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::1", false},
		{"fe80::1", false},
		{"fd00::1", false},
		{"::ffff:127.0.0.1", false},
		{"224.0.0.1", false},
	} {
		if got := publicAddress(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("%s: public %v, want %v", c.addr, got, c.public)
		}
	}
}

func TestMailConfigKeepsThePasswordOut(t *testing.T) {
	c := MailConfig{Addr: "smtp.example.gov.vn:587", From: "vanthu@example.gov.vn", Username: "vanthu", Password: "hunter2-secret", StartTLS: true}
	if s := c.String(); strings.Contains(s, "hunter2") {
		t.Fatalf("String shows the password: %s", s)
	}
	for _, bad := range []MailConfig{
		{Addr: "no-port", From: "a@b.vn"},
		{Addr: "h:25", From: "not an address"},
		{Addr: "h:25", From: "a@b.vn", Username: "u"},
	} {
		if err := bad.Validate(); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// An unreachable server's error names the server, not the password.
	c.Addr = "127.0.0.1:1"
	err := c.send(t.Context(), message{To: "x@y.vn", Subject: "s", Body: "b", MessageID: "<m@vanthu>"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("send to a closed port: %v", err)
	}
}

func TestMessageRender(t *testing.T) {
	raw, err := message{To: "nguoinhan@xa.gov.vn", Subject: "Văn bản đến: Quyết định", Body: "Nội dung", MessageID: "<a@vanthu>",
		Attachment: []byte("%PDF"), FileName: "quyết định.pdf"}.render("vanthu@xa.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Subject: =?utf-8?q?", "multipart/mixed", "application/pdf", "filename*=utf-8''", "Message-ID: <a@vanthu>"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %q in\n%s", want, raw)
		}
	}
	// A recipient with a header injection is refused.
	if _, err := (message{To: "a@b.vn\r\nBcc: evil@x.vn"}).render("vanthu@xa.gov.vn"); err == nil {
		t.Fatal("header injection accepted")
	}
}

// TestPublicAddressEmbeddedAndReserved: an IPv6 address that leads to a
// private IPv4 one (NAT64, 6to4, IPv4-compatible) and the reserved ranges
// netip's predicates leave out are refused like the private ranges.
func TestPublicAddressEmbeddedAndReserved(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 to 169.254.169.254
		{"64:ff9b::7f00:1", false},    // NAT64 to 127.0.0.1
		{"64:ff9b::a00:1", false},     // NAT64 to 10.0.0.1
		{"64:ff9b::cb00:7107", true},  // NAT64 to 203.0.113.7
		{"64:ff9b:1::1", false},       // local-use NAT64
		{"2002:7f00:1::1", false},     // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},  // 6to4 of 169.254.169.254
		{"2002:cb00:7107::1", true},   // 6to4 of a public address
		{"::7f00:1", false},           // IPv4-compatible 127.0.0.1
		{"::a9fe:a9fe", false},        // IPv4-compatible 169.254.169.254
		{"0.1.2.3", false},            // "this network"
		{"192.0.0.8", false},
		{"198.18.0.1", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"fec0::1", false},
		{"2001:0:4136:e378::1", false}, // Teredo
		{"100::1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:8.8.8.8", true},
	} {
		if got := publicAddress(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("%s: public %v, want %v", c.addr, got, c.public)
		}
	}
}

// TestMessageRenderKeepsHeadersWhole: a recipient that parses as one
// address but carries a line break in a comment or display name, a subject
// or a file name with line breaks or quotes never adds a header line or a
// parameter; only the bare address reaches the header and the envelope.
func TestMessageRenderKeepsHeadersWhole(t *testing.T) {
	for _, m := range []message{
		{To: "a@b.vn (x\r\nBcc: evil@x.vn)", Subject: "s"},
		{To: "a@b.vn (x\nBcc: evil@x.vn)", Subject: "s"},
		{To: "a@b.vn", Subject: "Quyết định\r\nBcc: evil@x.vn"},
		{To: "a@b.vn", Subject: "plain\r\nBcc: evil@x.vn"},
		{To: "a@b.vn", Subject: "s", Attachment: []byte("%PDF"), FileName: "x\"; evil=\"1.pdf"},
		{To: "a@b.vn", Subject: "s", Attachment: []byte("%PDF"), FileName: "x\r\nBcc: evil@x.vn.pdf"},
	} {
		m.Body, m.MessageID = "b", "<m@vanthu>"
		raw, err := m.render("vanthu@xa.gov.vn")
		if err != nil {
			t.Fatalf("%q: %v", m.To, err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%q: %v", m.To, err)
		}
		if len(msg.Header["Bcc"]) != 0 || bytes.Contains(raw, []byte("\nBcc:")) {
			t.Errorf("%+v: a Bcc header got in:\n%s", m, raw)
		}
		if got := msg.Header.Get("To"); got != "<a@b.vn>" {
			t.Errorf("%q: To: %q, want <a@b.vn>", m.To, got)
		}
		if m.Attachment == nil {
			continue
		}
		mr := multipart.NewReader(msg.Body, boundaryOf(t, msg.Header.Get("Content-Type")))
		if _, err := mr.NextPart(); err != nil {
			t.Fatal(err)
		}
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		_, ps, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || ps["name"] != m.FileName || len(ps) != 1 {
			t.Errorf("attachment %q: Content-Type %q parsed as %v (%v)", m.FileName, part.Header.Get("Content-Type"), ps, err)
		}
		if part.FileName() != m.FileName {
			t.Errorf("attachment %q: file name %q", m.FileName, part.FileName())
		}
	}
}

func boundaryOf(t *testing.T, contentType string) string {
	t.Helper()
	_, ps, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatal(err)
	}
	return ps["boundary"]
}
