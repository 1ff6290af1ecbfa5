package register

import (
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestExternalRecipientIsOneBareAddress: an outside recipient's e-mail is
// one address: a list, a line break with another header, or junk is
// refused, and what is kept (and later mailed to) is the bare address
// without a display name or comment that could carry a line break.
func TestExternalRecipientIsOneBareAddress(t *testing.T) {
	for _, c := range []struct {
		email, kept string // kept "": refused
	}{
		{"vanphong@so-tc.gov.vn", "vanphong@so-tc.gov.vn"},
		{"  vanphong@so-tc.gov.vn ", "vanphong@so-tc.gov.vn"},
		{"Văn phòng <vanphong@so-tc.gov.vn>", "vanphong@so-tc.gov.vn"},
		{"vanphong@so-tc.gov.vn (x\r\nBcc: evil@x.vn)", "vanphong@so-tc.gov.vn"},
		{"vanphong@so-tc.gov.vn, evil@x.vn", ""},
		{"vanphong@so-tc.gov.vn;evil@x.vn", ""},
		{"vanphong@so-tc.gov.vn\r\nBcc: evil@x.vn", ""},
		{"vanphong@so-tc.gov.vn\nBcc: evil@x.vn", ""},
		{"undisclosed-recipients:;", ""},
		{"nhom: a@x.vn, b@x.vn;", ""},
		{"not an address", ""},
	} {
		req := IssueRequest{Recipients: []Recipient{{Name: "Sở Tài chính", Email: c.email}}}
		out, _, err := checkRequest(req, "", map[string]storage.Organization{})
		switch {
		case c.kept == "" && err == nil:
			t.Errorf("%q accepted as %+v", c.email, out)
		case c.kept != "" && err != nil:
			t.Errorf("%q refused: %v", c.email, err)
		case c.kept != "" && (len(out) != 1 || out[0].Email != c.kept || out[0].Channel != "email"):
			t.Errorf("%q kept as %+v, want %s", c.email, out, c.kept)
		}
	}
}
