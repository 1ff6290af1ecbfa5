package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Lang selects the language of text and PDF reports.
type Lang string

const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

var words = map[Lang]map[string]string{
	Vietnamese: {
		"file": "Tệp", "sha256": "SHA-256", "verdict": "Kết luận", "signature": "Chữ ký", "doc-ts": "Dấu thời gian tài liệu",
		"field": "Trường", "signer": "Người ký", "issuer": "Tổ chức cấp", "signing_time": "Thời điểm ký (khai báo)",
		"timestamp_time": "Thời điểm theo dấu thời gian", "level": "Mức", "indication": "Kết quả", "sub": "Lý do",
		"coverage": "Phạm vi ký", "modifications": "Thay đổi sau khi ký", "validation_time": "Thời điểm kiểm tra",
		"errors": "Lỗi", "warnings": "Cảnh báo", "checks": "Đã kiểm tra", "hidden": "CHỮ KÝ ẨN (không thuộc trường chữ ký nào)",
		"none": "không có", "title": "BÁO CÁO KIỂM TRA CHỮ KÝ SỐ", "checked_at": "Lập lúc", "revisions": "Số phiên bản",
		"VALID": "HỢP LỆ", "INVALID": "KHÔNG HỢP LỆ", "INDETERMINATE": "CHƯA XÁC ĐỊNH", "UNSIGNED": "KHÔNG CÓ CHỮ KÝ",
		"TOTAL-PASSED": "ĐẠT", "TOTAL-FAILED": "KHÔNG ĐẠT", "changes": "Các thay đổi", "allowed": "được phép", "disallowed": "KHÔNG được phép",
		"certification": "Chữ ký chứng thực (DocMDP P)",
		"mod:NONE":      "không có", "mod:ALLOWED": "chỉ có thay đổi được phép", "mod:DISALLOWED": "CÓ THAY ĐỔI KHÔNG ĐƯỢC PHÉP", "mod:UNKNOWN": "không phân tích được",
		// Change-analysis rules and warnings (the JSON keeps the English
		// text; these render it).
		"rule:approval-annotation":            "chú thích (ghi chú, dấu, liên kết) thêm sau chữ ký phê duyệt, không che nội dung đã ký",
		"rule:approval-annotation-appearance": "hình hiển thị của chú thích thêm sau khi ký",
		"rule:approval-annotation-data":       "dữ liệu của chú thích thêm sau khi ký",
		"rule:annotation-change":              "chú thích thay đổi (DocMDP P=3 cho phép)",
		"rule:form-fill":                      "điền trường biểu mẫu chưa ký",
		"rule:form-fill-appearance":           "hình hiển thị của trường biểu mẫu đã điền, không che nội dung đã ký",
		"rule:structure-tree-update":          "cập nhật cây cấu trúc (tagged PDF) khi ký hoặc điền biểu mẫu",
		"tech":                                "chi tiết kỹ thuật",
		"rev":                                 "phiên bản",
		"decode-budget":                       "Dữ liệu giải nén từ các luồng của tệp vượt hạn mức bộ nhớ %s của lượt kiểm tra; những kiểm tra cần đến dữ liệu đó CHƯA XÁC ĐỊNH",
		"decode-shared":                       "hạn mức bộ nhớ chung của dịch vụ đang được các lượt kiểm tra khác dùng hết, hãy kiểm tra lại sau",
	},
	English: {
		"file": "File", "sha256": "SHA-256", "verdict": "Verdict", "signature": "Signature", "doc-ts": "Document timestamp",
		"field": "Field", "signer": "Signer", "issuer": "Issuer", "signing_time": "Signing time (claimed)",
		"timestamp_time": "Timestamp time", "level": "Level", "indication": "Indication", "sub": "Sub-indication",
		"coverage": "Coverage", "modifications": "Changes after signing", "validation_time": "Validation time",
		"errors": "Errors", "warnings": "Warnings", "checks": "Checked", "hidden": "HIDDEN SIGNATURE (not in any signature field)",
		"none": "none", "title": "DIGITAL SIGNATURE VALIDATION REPORT", "checked_at": "Checked at", "revisions": "Revisions",
		"VALID": "VALID", "INVALID": "INVALID", "INDETERMINATE": "INDETERMINATE", "UNSIGNED": "UNSIGNED",
		"TOTAL-PASSED": "TOTAL-PASSED", "TOTAL-FAILED": "TOTAL-FAILED", "changes": "Changes", "allowed": "allowed", "disallowed": "NOT allowed",
		"certification": "Certification signature (DocMDP P)",
		"mod:NONE":      "none", "mod:ALLOWED": "permitted changes only", "mod:DISALLOWED": "CHANGES NOT ALLOWED", "mod:UNKNOWN": "could not be analysed",
		"rule:approval-annotation":            "annotation (comment, stamp, link) added after an approval signature, covering no signed content",
		"rule:approval-annotation-appearance": "appearance of an annotation added after signing",
		"rule:approval-annotation-data":       "data of an annotation added after signing",
		"rule:annotation-change":              "annotation changed (permitted by DocMDP P=3)",
		"rule:form-fill":                      "unsigned form field filled in",
		"rule:form-fill-appearance":           "appearance of a filled-in form field, covering no signed content",
		"rule:structure-tree-update":          "tagged-PDF structure tree updated by signing or filling in",
		"tech":                                "technical detail",
		"rev":                                 "revision",
		"decode-budget":                       "Decoded stream data of the file exceeded the verification's memory budget of %s; the checks that needed it are INDETERMINATE",
		"decode-shared":                       "the service's shared memory budget was in use by other verifications, verify again later",
	},
}

// Codes that start report warnings ("code: detail"); explain.go words
// them in the report's language.
const (
	warnPermittedChange = "permitted change after signing"
	warnXrefRepaired    = "cross-reference data repaired"
	warnShadow          = "page content changed after signing"
)

func (l Lang) t(k string) string {
	m, ok := words[l]
	if !ok {
		m = words[Vietnamese]
	}
	if s, ok := m[k]; ok {
		return s
	}
	return k
}

// vnTime shows times in Vietnam's offset, as office documents do.
var vnZone = time.FixedZone("+07:00", 7*3600)

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.In(vnZone).Format(time.RFC3339)
}

// Lines renders a report as lines of text, shared by the text and PDF
// outputs. Every sentence is in lang; the verifier's own technical words
// (the PDF parser's English, offsets, codes) end a line after the marker
// "chi tiết kỹ thuật:" / "technical detail:", never inside a sentence.
func Lines(rep *Report, lang Lang) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	said := func(indent, label string, s Said) {
		line := indent + label + ": " + s.Text
		if s.Detail != "" {
			line += " — " + lang.t("tech") + ": " + s.Detail
		}
		out = append(out, line)
	}
	add("%s: %s", lang.t("file"), rep.File)
	add("%s: %s", lang.t("sha256"), rep.SHA256)
	add("%s: %s (%s)", lang.t("verdict"), lang.t(string(rep.Verdict)), rep.Verdict)
	add("%s: %d", lang.t("revisions"), rep.Revisions)
	for i, s := range rep.Signatures {
		kind := lang.t("signature")
		if s.Type == "document-timestamp" {
			kind = lang.t("doc-ts")
		}
		add("")
		add("%s %d: %s", kind, i+1, s.Field)
		if s.Hidden {
			add("  %s", lang.t("hidden"))
		}
		add("  %s: %s", lang.t("signer"), orDash(s.Signer))
		if s.Issuer != "" {
			add("  %s: %s", lang.t("issuer"), s.Issuer)
		}
		add("  %s: %s", lang.t("signing_time"), fmtTime(s.SigningTime))
		add("  %s: %s", lang.t("timestamp_time"), fmtTime(s.TimestampTime))
		if !s.ValidationAt.IsZero() {
			t := s.ValidationAt
			add("  %s: %s", lang.t("validation_time"), fmtTime(&t))
		}
		add("  %s: %s  (%s)", lang.t("level"), orDash(s.Level), s.SubFilter)
		if s.Certification > 0 {
			add("  %s: %d", lang.t("certification"), s.Certification)
		}
		ind := lang.t(string(s.Indication))
		if ind != string(s.Indication) {
			ind += " (" + string(s.Indication) + ")"
		}
		add("  %s: %s", lang.t("indication"), ind)
		if s.SubIndication != etsi.None {
			add("  %s: %s (%s)", lang.t("sub"), lang.SubIndication(s.SubIndication), s.SubIndication)
		}
		said("  ", lang.t("coverage"), Said{Text: lang.CoverageSaid(s.Coverage), Detail: fmt.Sprintf("%s %v", s.Coverage, s.ByteRange)})
		add("  %s: %s", lang.t("modifications"), lang.t("mod:"+string(s.Modifications)))
		for _, c := range s.Changes {
			al := lang.t("allowed")
			if !c.Allowed {
				al = lang.t("disallowed")
			}
			text := lang.ChangeKind(c.Kind)
			if r := lang.RuleSaid(c.Rule); r != "" {
				text += ", " + r
			}
			detail := c.Object + " (" + lang.t("rev") + " " + fmt.Sprint(c.Revision) + ")"
			if c.Rule != "" {
				detail += " " + c.Rule
			}
			if c.Detail != "" {
				detail += ": " + c.Detail
			}
			out = append(out, "    - "+text+": "+al+" — "+lang.t("tech")+": "+detail)
		}
		if len(s.Checks) > 0 {
			var ok []string
			for _, c := range s.Checks {
				if c.OK {
					ok = append(ok, lang.CheckSaid(c).Text)
				}
			}
			add("  %s: %s", lang.t("checks"), strings.Join(ok, "; "))
		}
		for _, e := range s.Errors {
			said("  ", lang.t("errors"), lang.Error(e))
		}
		for _, w := range s.Warnings {
			said("  ", lang.t("warnings"), lang.Warning(w))
		}
	}
	for _, e := range rep.Errors {
		said("", lang.t("errors"), lang.Error(e))
	}
	if d := lang.DecodingSaid(rep.Decoding); d.Text != "" {
		said("", lang.t("errors"), d)
	}
	for _, w := range rep.Warnings {
		said("", lang.t("warnings"), lang.Warning(w))
	}
	return out
}

func mebibytes(n int64) string {
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText writes the human-readable report.
func WriteText(w io.Writer, rep *Report, lang Lang) error {
	for _, l := range Lines(rep, lang) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteJSON writes the report as one JSON object on one line.
func WriteJSON(w io.Writer, rep *Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}
