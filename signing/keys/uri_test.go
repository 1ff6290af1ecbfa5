package keys

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePKCS11URI(t *testing.T) {
	slot := 3
	tests := []struct {
		in      string
		want    PKCS11URI
		wantErr string
	}{
		{
			in:   "pkcs11:token=vanthu;object=official;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
			want: PKCS11URI{Token: "vanthu", Object: "official", ID: []byte{1, 2}, ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "file:/run/pin"},
		},
		{
			in:   "pkcs11:token=Ban%20C%C6%A1%20y%E1%BA%BFu;object=k%C3%BD+s%E1%BB%91;type=private?pin-value=12%2634",
			want: PKCS11URI{Token: "Ban Cơ yếu", Object: "ký+số", Type: "private", PINValue: "12&34"},
		},
		{
			in:   "pkcs11:serial=0123abcd;slot-id=3;library-manufacturer=SoftHSM;x-vendor=1?x-chain-file=/etc/vanthu/chain.pem&module-name=softhsm2",
			want: PKCS11URI{Serial: "0123abcd", SlotID: &slot, ChainFile: "/etc/vanthu/chain.pem", ModuleName: "softhsm2"},
		},
		{in: "pkcs11:token=hsm;object=seal?x-max-sessions=16", want: PKCS11URI{Token: "hsm", Object: "seal", MaxSessions: 16}},
		{in: "pkcs11:", want: PKCS11URI{}},
		{in: "pkcs11:token=a?x-max-sessions=0", wantErr: "x-max-sessions"},
		{in: "pkcs11:token=a?x-max-sessions=1000", wantErr: "x-max-sessions"},
		{in: "file:/tmp/key.p12", wantErr: "must start with"},
		{in: "pkcs11:token=a;token=b", wantErr: "twice"},
		{in: "pkcs11:tokn=a", wantErr: "unknown path attribute"},
		{in: "pkcs11:token=a?pin-valeu=1234", wantErr: "unknown query attribute"},
		{in: "pkcs11:token=a;id=%zz", wantErr: "percent-encoding"},
		{in: "pkcs11:token=a;slot-id=x", wantErr: "slot-id"},
		{in: "pkcs11:token=a;type=banana", wantErr: "object type"},
		{in: "pkcs11:token=a?pin-value=1&pin-source=file:/x", wantErr: "mutually exclusive"},
		{in: "pkcs11:987654321", wantErr: "name=value"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePKCS11URI(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"1234", "987654321"} {
					if strings.Contains(tc.in, secret) && strings.Contains(err.Error(), secret) {
						t.Errorf("error repeats a possible PIN: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Token != tc.want.Token || got.Object != tc.want.Object || !bytes.Equal(got.ID, tc.want.ID) ||
				got.Serial != tc.want.Serial || got.Type != tc.want.Type || got.ModulePath != tc.want.ModulePath ||
				got.ModuleName != tc.want.ModuleName || got.PINSource != tc.want.PINSource || got.PINValue != tc.want.PINValue ||
				got.ChainFile != tc.want.ChainFile || got.MaxSessions != tc.want.MaxSessions || (got.SlotID == nil) != (tc.want.SlotID == nil) ||
				(got.SlotID != nil && *got.SlotID != *tc.want.SlotID) {
				t.Errorf("got %+v\nwant %+v", *got, tc.want)
			}
			// Redacted round-trips everything but the PIN.
			red := got.Redacted()
			if got.PINValue != "" && strings.Contains(red, got.PINValue) {
				t.Errorf("Redacted shows the PIN: %s", red)
			}
			again, err := ParsePKCS11URI(red)
			if err != nil {
				t.Fatalf("reparse %s: %v", red, err)
			}
			if again.Token != got.Token || again.Object != got.Object || !bytes.Equal(again.ID, got.ID) || again.ChainFile != got.ChainFile {
				t.Errorf("Redacted %s does not round-trip", red)
			}
		})
	}
}

// FuzzParsePKCS11URI: any input parses or fails cleanly, a parsed URI's
// redacted form reparses, and no error repeats a pin-value.
func FuzzParsePKCS11URI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=a;object=b;id=%01?module-path=/m.so&pin-value=1234",
		"pkcs11:slot-id=1?pin-source=file:/p",
		"pkcs11:;;??&&==",
		"pkcs11:id=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParsePKCS11URI(s)
		if err != nil {
			return
		}
		if u.PINValue != "" {
			if red := u.Redacted(); !strings.Contains(red, "pin-value=***") || strings.Contains(red, "pin-value="+escape(u.PINValue)+"&") {
				t.Errorf("Redacted does not hide the PIN: %s", red)
			}
		}
		if _, err := ParsePKCS11URI(u.Redacted()); err != nil {
			t.Errorf("Redacted %q does not reparse: %v", u.Redacted(), err)
		}
	})
}
