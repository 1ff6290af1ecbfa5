package notify

import (
	"bytes"
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
