package verify

import (
	"time"

	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Coverage says which bytes of the file a signature covers.
type Coverage string

const (
	EntireFile     Coverage = "ENTIRE_FILE"     // up to the last byte
	EntireRevision Coverage = "ENTIRE_REVISION" // up to the end of an earlier revision
	Partial        Coverage = "PARTIAL"         // a sane prefix that ends elsewhere
	Nonstandard    Coverage = "NONSTANDARD"     // ByteRange not of the one accepted shape
)

// Modifications summarises what changed after a signature.
type Modifications string

const (
	ModNone       Modifications = "NONE"
	ModAllowed    Modifications = "ALLOWED"
	ModDisallowed Modifications = "DISALLOWED"
	ModUnknown    Modifications = "UNKNOWN" // could not be analysed
)

// Change is one object changed after the signature, with the rule that
// cleared it or the reason it is not allowed.
type Change struct {
	Object   string `json:"object"`
	Revision int    `json:"revision"`
	Kind     string `json:"kind"`
	Rule     string `json:"rule,omitempty"`
	Allowed  bool   `json:"allowed"`
	Detail   string `json:"detail,omitempty"`
	// Visual: a disallowed change to what a page shows.
	Visual bool `json:"visual,omitempty"`
}

// Check is one fact the verifier established (or failed to).
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Timestamp is a validated RFC 3161 token (signature or document timestamp).
type Timestamp struct {
	Kind          string             `json:"kind"` // signature-timestamp, document-timestamp
	Time          time.Time          `json:"time"`
	TSA           string             `json:"tsa,omitempty"`
	Indication    etsi.Indication    `json:"indication"`
	SubIndication etsi.SubIndication `json:"sub_indication,omitempty"`
	Detail        string             `json:"detail,omitempty"`
	Warnings      []string           `json:"warnings,omitempty"`
}

// Signature is the validation report of one signature or document
// timestamp.
type Signature struct {
	Field        string `json:"field"`
	Object       string `json:"object,omitempty"`
	Type         string `json:"type"` // signature, document-timestamp
	SubFilter    string `json:"subfilter"`
	Hidden       bool   `json:"hidden,omitempty"`
	Signer       string `json:"signer"`
	SignerSerial string `json:"signer_serial,omitempty"`
	Issuer       string `json:"issuer,omitempty"`
	// SignerNotBefore and SignerNotAfter are the signing certificate's
	// validity, which a reader of the report is shown beside its holder.
	SignerNotBefore *time.Time              `json:"signer_not_before,omitempty"`
	SignerNotAfter  *time.Time              `json:"signer_not_after,omitempty"`
	SigningTime     *time.Time              `json:"signing_time"`
	TimestampTime   *time.Time              `json:"timestamp_time"`
	Level           string                  `json:"level"`
	Indication      etsi.Indication         `json:"indication"`
	SubIndication   etsi.SubIndication      `json:"sub_indication"`
	Reason          string                  `json:"reason,omitempty"`
	ByteRange       []int64                 `json:"byte_range"`
	Coverage        Coverage                `json:"coverage"`
	Revision        int                     `json:"revision"`                // index of the signed revision, -1 if none
	Certification   int                     `json:"certification,omitempty"` // DocMDP P of a certification signature
	Digest          string                  `json:"digest_algorithm,omitempty"`
	Modifications   Modifications           `json:"modifications"`
	Changes         []Change                `json:"changes"`
	Timestamps      []Timestamp             `json:"timestamps,omitempty"`
	Revocation      []chain.RevocationCheck `json:"revocation,omitempty"`
	Checks          []Check                 `json:"checks"`
	Errors          []string                `json:"errors"`
	Warnings        []string                `json:"warnings"`
	ValidationAt    time.Time               `json:"validation_time"`

	// internal
	status      []finding
	offset      int64
	signedTimes []time.Time // POE from timestamps over this signature
}

// Report is the validation report of one file.
type Report struct {
	File       string       `json:"file"`
	SHA256     string       `json:"sha256"`
	Size       int64        `json:"size"`
	Verdict    etsi.Verdict `json:"verdict"`
	Revisions  int          `json:"revisions"`
	Signatures []*Signature `json:"signatures"`
	Errors     []string     `json:"errors"`
	Warnings   []string     `json:"warnings"`
	Decoding   Decoding     `json:"decoding"`
	CheckedAt  time.Time    `json:"checked_at"`
}

// Decoding accounts the decoded stream data of one verification against its
// budget. When a limit refused some (a decompression bomb, or a file too
// large for the budget), Exceeded says which and the verdict cannot be
// VALID: the checks that needed the data are INDETERMINATE.
type Decoding struct {
	Budget   int64  `json:"budget"`             // bytes the verification could hold at once
	Peak     int64  `json:"peak"`               // most bytes it held at once
	Total    int64  `json:"total"`              // bytes it decoded in all
	Exceeded string `json:"exceeded,omitempty"` // the first refusal, empty if none
	Shared   bool   `json:"shared,omitempty"`   // the service's shared budget refused, not the file's own
}

// finding is one reason a signature is not TOTAL-PASSED.
type finding struct {
	ind    etsi.Indication
	sub    etsi.SubIndication
	detail string
}

func (s *Signature) check(name string, ok bool, detail string) {
	s.Checks = append(s.Checks, Check{Name: name, OK: ok, Detail: detail})
}

// fail records a finding; the most severe one becomes the indication.
func (s *Signature) fail(ind etsi.Indication, sub etsi.SubIndication, detail string) {
	s.status = append(s.status, finding{ind, sub, detail})
	s.Errors = append(s.Errors, string(sub)+": "+detail)
}

func (s *Signature) conclude() {
	s.Indication, s.SubIndication = etsi.TotalPassed, etsi.None
	// TOTAL-FAILED wins over INDETERMINATE; within a class the first found.
	for _, f := range s.status {
		if f.ind == etsi.TotalFailed {
			s.Indication, s.SubIndication = f.ind, f.sub
			return
		}
	}
	if len(s.status) > 0 {
		s.Indication, s.SubIndication = s.status[0].ind, s.status[0].sub
	}
}
