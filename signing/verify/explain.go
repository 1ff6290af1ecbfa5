package verify

import (
	"strings"

	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Said is one finding of a report as a reader sees it: Text, a sentence in
// the report's language, and Detail, the verifier's or the PDF parser's own
// technical words (offsets, object numbers, the parser's English) that the
// sentence does not translate. A page shows Detail apart, marked as
// technical detail, so that no sentence mixes two languages; Detail is
// empty when Text says it all.
type Said struct {
	Text   string
	Detail string
}

// explanation words the findings that open with one English phrase.
// What follows the phrase (after ": ") is the detail; a finding whose
// phrase is not at its start keeps its whole English text as the detail.
type explanation struct {
	phrase string
	vi, en string
}

// errorPhrases and warningPhrases are the verifier's findings, by the
// phrase they open with (longest first where one phrase opens another).
var errorPhrases = []explanation{
	{"PDF structure", "Không đọc được cấu trúc của tệp PDF: tệp bị cắt cụt, hỏng hoặc không phải PDF", "The PDF's structure cannot be read: the file is truncated, damaged or not a PDF"},
	{"more than ", "Tệp có quá nhiều chữ ký; các chữ ký vượt quá giới hạn không được kiểm tra", "The file has too many signatures; those beyond the limit were not checked"},
	{"/Contents is empty", "Chữ ký trống: tệp chỉ có chỗ dành sẵn cho chữ ký, chưa có chữ ký", "The signature is empty: a placeholder, not a signature"},
	{"CMS", "Không đọc được dữ liệu chữ ký (CMS)", "The signature data (CMS) cannot be read"},
	{"non-zero bytes after the CMS structure", "Có dữ liệu thừa sau dữ liệu chữ ký (CMS)", "Bytes follow the signature data (CMS)"},
	{"unsupported /SubFilter", "Kiểu chữ ký (SubFilter) không được hỗ trợ", "The signature's kind (SubFilter) is not supported"},
	{"ByteRange", "Vùng dữ liệu được ký (ByteRange) không hợp lệ", "The signed byte ranges (ByteRange) are not valid"},
	{"signature covers the first", "Chữ ký không phủ đến hết một phiên bản nào của tệp", "The signature does not cover up to the end of any revision of the file"},
	{"detached signature carries encapsulated content", "Chữ ký tách rời lại chứa nội dung đóng gói", "A detached signature carries encapsulated content"},
	{"encapsulated content type", "Loại nội dung đóng gói của chữ ký không phải id-data", "The signature's encapsulated content type is not id-data"},
	{"encapsulated SHA-1 digest does not match", "Giá trị băm SHA-1 trong chữ ký không khớp vùng được ký: tài liệu đã bị thay đổi", "The encapsulated SHA-1 digest does not match the signed ranges: the document was changed"},
	{"adbe.pkcs7.sha1", "Chữ ký kiểu adbe.pkcs7.sha1 dùng thuật toán băm SHA-1, không còn được chấp nhận", "adbe.pkcs7.sha1 signs a SHA-1 digest, which is no longer accepted"},
	{"the signer's certificate is neither in the CMS nor in the document security store", "Không tìm thấy chứng thư số của người ký, cả trong chữ ký lẫn trong kho dữ liệu kiểm tra của tệp", "The signer's certificate is neither in the signature nor in the document security store"},
	{"ETSI.CAdES.detached requires signed attributes", "Chữ ký kiểu ETSI.CAdES.detached phải có thuộc tính được ký", "An ETSI.CAdES.detached signature needs signed attributes"},
	{"content-type attribute differs", "Thuộc tính loại nội dung khác với loại nội dung đóng gói", "The content-type attribute differs from the encapsulated content type"},
	{"message digest does not match the signed bytes", "Giá trị băm không khớp với nội dung được ký: tài liệu đã bị thay đổi sau khi ký", "The message digest does not match the signed bytes: the document was changed after signing"},
	{"digest ", "Thuật toán băm không được chấp nhận (cần SHA-2 hoặc SHA-3)", "The digest algorithm is not accepted (SHA-2 or SHA-3 required)"},
	{"signature timestamp", "Dấu thời gian của chữ ký không hợp lệ", "The signature's timestamp is not valid"},
	{"timestamp imprint does not match the covered bytes", "Giá trị băm trong dấu thời gian không khớp nội dung: tài liệu đã bị thay đổi", "The timestamp's imprint does not match the covered bytes: the document was changed"},
	{"imprint digest outside the policy", "Thuật toán băm của dấu thời gian nằm ngoài chính sách thuật toán", "The timestamp's digest algorithm is outside the policy"},
	{"TSA: no trust anchors configured", "Không có chứng thư gốc tin cậy nào được cấu hình để kiểm tra đơn vị cấp dấu thời gian", "No trust anchors are configured to check the timestamping authority"},
	{"TSA", "Không xác nhận được chứng thư của đơn vị cấp dấu thời gian", "The timestamping authority's certificate cannot be confirmed"},
	{"no trust anchors configured", "Không có chứng thư gốc tin cậy nào được cấu hình nên chưa xác nhận được chuỗi chứng thư", "No trust anchors are configured, so the certificate chain cannot be confirmed"},
	{"disallowed changes after signing", "Tài liệu có thay đổi không được phép sau khi ký", "The document has changes after signing that are not allowed"},
	{"signature dictionary cannot be parsed", "Không đọc được từ điển chữ ký", "The signature dictionary cannot be read"},
	{"signature dictionary is not a plain object", "Từ điển chữ ký không phải một đối tượng thông thường trong tệp", "The signature dictionary is not a plain object of the file"},
	{"/ByteRange at offset", "Vùng dữ liệu được ký (ByteRange) nằm ngoài mọi từ điển đọc được", "A ByteRange lies outside any readable dictionary"},
	{"signature dictionary ", "Từ điển chữ ký nằm trong luồng đối tượng nên không kiểm tra được chỗ chứa chữ ký", "The signature dictionary lies in an object stream, so its /Contents gap cannot be checked"},
	{"malformed signature", "Chữ ký sai cấu trúc", "The signature is malformed"},
	{"algorithm policy", "Thuật toán hoặc độ dài khóa nằm ngoài chính sách thuật toán", "The algorithm or key size is outside the algorithm policy"},
	{"unknown signature algorithm", "Thuật toán chữ ký không xác định", "Unknown signature algorithm"},
	{"unknown digest algorithm", "Thuật toán băm không xác định", "Unknown digest algorithm"},
	{"the signature algorithm contradicts the SignerInfo digest algorithm", "Thuật toán chữ ký mâu thuẫn với thuật toán băm của SignerInfo", "The signature algorithm contradicts the SignerInfo's digest algorithm"},
}

var warningPhrases = []explanation{
	{warnPermittedChange, "Thay đổi được phép sau khi ký", "Permitted change after signing"},
	{warnXrefRepaired, "Bảng tham chiếu chéo (xref) hỏng, đã dựng lại bằng cách quét đối tượng như trình xem PDF", "Damaged cross-reference data, rebuilt by scanning the objects as viewers do"},
	{warnShadow, "Nội dung hiển thị của trang bị thay đổi sau khi ký (kiểu tấn công che giấu nội dung)", "What a page shows changed after signing (a shadow attack)"},
	{phraseSeveralSigners, "CMS chứa nhiều SignerInfo; SignerInfo có chứng thư là chứng thư ký được kiểm tra, các SignerInfo còn lại được liệt kê", phraseSeveralSigners},
	{phraseNegativeSerial, "Chấp nhận chứng thư số có số hiệu (serial) âm (RFC 5280 yêu cầu số hiệu dương; các CA và công cụ cũ từng cấp loại này)", phraseNegativeSerial},
	{"CMS is BER, not DER, encoded", "Dữ liệu chữ ký (CMS) mã hóa BER thay vì DER", "The signature data (CMS) is BER, not DER, encoded"},
	{"no signed attributes", "Chữ ký không có thuộc tính được ký: chữ ký ký trực tiếp lên giá trị băm của tài liệu", "No signed attributes: the signature is over the document digest directly"},
	{"signed attributes are not DER encoded", "Thuộc tính được ký không mã hóa DER (được kiểm tra như nhận được)", "The signed attributes are not DER encoded (checked as received)"},
	{"no signing-certificate(-v2) attribute", "Thiếu thuộc tính định danh chứng thư người ký: chữ ký không theo chuẩn PAdES cơ bản", "No signing-certificate(-v2) attribute: not a PAdES baseline signature"},
	{"signature timestamp not usable", "Dấu thời gian của chữ ký không dùng được", "The signature's timestamp is not usable"},
	{"changes after signing could not be analysed", "Không phân tích được các thay đổi sau khi ký", "The changes after signing could not be analysed"},
	{"signature dictionary not reachable from the form fields", "Chữ ký ẩn: từ điển chữ ký không thuộc trường chữ ký nào của phiên bản cuối", "Hidden signature: the signature dictionary is in no form field of the latest revision"},
	{"hidden signature dictionary at offset", "Có từ điển chữ ký ẩn (không thuộc trường chữ ký nào)", "A hidden signature dictionary (in no signature field)"},
	{"RECOVERED", "Bảng tham chiếu chéo (xref) hỏng, đã dùng bảng của phiên bản trước", "Damaged cross-reference data; the previous section was used"},
	{"REPAIRED", "Bảng tham chiếu chéo (xref) của một phiên bản hỏng, đã dựng lại bằng cách quét đối tượng như trình xem PDF", "A revision's cross-reference data was damaged and rebuilt by scanning its objects as viewers do"},
	{"startxref after the section", "Vị trí bảng tham chiếu chéo ghi ở cuối một phiên bản không đúng", "A revision's startxref does not point at its cross-reference section"},
	{"no well-formed startxref", "Sau bảng tham chiếu chéo không có phần kết thúc phiên bản đúng chuẩn", "No well-formed startxref/%%EOF follows a cross-reference section"},
	{"bytes after the last revision", "Có dữ liệu thừa sau phần kết thúc của phiên bản cuối, không thuộc phiên bản nào", "Bytes after the last revision's %%EOF belong to no revision"},
	{"bytes up to endstream used", "Độ dài khai báo của một luồng dữ liệu không đúng; đã đọc đến hết luồng", "A stream's declared length is wrong; it was read up to its end"},
	{"followed by a lone CR", "Từ khóa bắt đầu luồng dữ liệu theo sau bởi một ký tự CR đơn lẻ", "A stream keyword is followed by a lone CR"},
	{"missing endobj", "Một đối tượng thiếu phần kết thúc (endobj)", "An object lacks its endobj"},
	{"duplicate dictionary key", "Một từ điển có khóa trùng lặp", "A dictionary repeats a key"},
	{"bytes of junk before the", "Có dữ liệu thừa trước phần đầu tệp PDF", "Junk bytes precede the PDF header"},
	{"has a forward /Prev", "Bảng tham chiếu chéo trỏ về phía sau trong một tệp không tuyến tính hóa; hai phần được coi là một phiên bản", "A cross-reference section points forward in a file that is not linearized; both are treated as one revision"},
	{"has no %%EOF marker", "Phiên bản cuối không có dấu kết thúc tệp", "The last revision has no %%EOF marker"},
	{"whitespace bytes before it", "Một vị trí khai báo lệch vài ký tự trắng so với thực tế", "A declared offset points a few whitespace bytes early"},
	{"treated as free", "Một mục của bảng tham chiếu chéo có vị trí 0, được coi là mục trống", "A cross-reference entry has offset 0 and is treated as free"},
	{"xref stream entry type", "Bỏ qua một mục không rõ loại trong luồng tham chiếu chéo", "An xref stream entry of unknown type was ignored"},
}

// subIndications describes ETSI EN 319 102-1's sub-indications.
var subIndications = map[etsi.SubIndication][2]string{
	etsi.FormatFailure:              {"chữ ký sai định dạng", "the signature is not well formed"},
	etsi.HashFailure:                {"giá trị băm không khớp: nội dung đã bị thay đổi", "the digest does not match: the content was changed"},
	etsi.SigCryptoFailure:           {"giá trị chữ ký không đúng", "the signature value is wrong"},
	etsi.Revoked:                    {"chứng thư số đã bị thu hồi", "the certificate is revoked"},
	etsi.NotYetValid:                {"chứng thư số chưa có hiệu lực vào lúc ký", "the certificate was not yet valid"},
	etsi.SigConstraintsFailure:      {"chữ ký không đáp ứng các ràng buộc", "the signature does not meet the constraints"},
	etsi.ChainConstraintsFailure:    {"chuỗi chứng thư không đáp ứng các ràng buộc", "the certificate chain does not meet the constraints"},
	etsi.CertificateChainGeneral:    {"lỗi chung của chuỗi chứng thư", "a general failure of the certificate chain"},
	etsi.CryptoConstraintsFailure:   {"thuật toán hoặc độ dài khóa không được chấp nhận", "an algorithm or key size is not accepted"},
	etsi.NoSigningCertificateFound:  {"không tìm thấy chứng thư của người ký", "the signing certificate was not found"},
	etsi.NoCertificateChainFound:    {"không xác lập được chuỗi chứng thư đến chứng thư gốc tin cậy", "no certificate chain to a trust anchor was found"},
	etsi.RevokedNoPOE:               {"chứng thư đã bị thu hồi và không có bằng chứng chữ ký có trước thời điểm thu hồi", "the certificate was revoked and nothing proves the signature existed before"},
	etsi.RevokedCANoPOE:             {"chứng thư của tổ chức cấp đã bị thu hồi và không có bằng chứng thời điểm", "an issuing CA was revoked and nothing proves the time"},
	etsi.OutOfBoundsNoPOE:           {"chứng thư đã hết hạn và không có bằng chứng thời điểm", "the certificate expired and nothing proves the time"},
	etsi.RevocationOutOfBoundsNoPOE: {"thông tin thu hồi ngoài thời hạn và không có bằng chứng thời điểm", "the revocation data is out of bounds and nothing proves the time"},
	etsi.TryLater:                   {"chưa có thông tin thu hồi; hãy kiểm tra lại sau", "no revocation data yet; try later"},
	etsi.TimestampOrderFailure:      {"thứ tự các dấu thời gian không hợp lệ", "the timestamps are out of order"},
	etsi.SignedDataNotFound:         {"không tìm thấy dữ liệu đã được ký", "the signed data was not found"},
}

// checkNames words the checks a report lists, by the phrase their name
// opens with.
var checkNames = []explanation{
	{"CMS SignedData parses", "Đọc được dữ liệu chữ ký (CMS SignedData)", "The signature data (CMS SignedData) parses"},
	{"ByteRange", "Vùng dữ liệu được ký (ByteRange)", "The signed byte ranges (ByteRange)"},
	{"coverage", "Phạm vi ký", "Coverage"},
	{"signing certificate found", "Tìm thấy chứng thư của người ký", "The signing certificate was found"},
	{"signed attributes DER", "Thuộc tính được ký mã hóa DER", "The signed attributes are DER encoded"},
	{"message digest", "Giá trị băm khớp nội dung được ký", "The message digest matches the signed bytes"},
	{"signing-certificate attribute", "Thuộc tính định danh chứng thư người ký", "The signing-certificate attribute"},
	{"signature value", "Giá trị chữ ký đúng", "The signature value is right"},
	{"message imprint", "Giá trị băm trong dấu thời gian khớp nội dung", "The timestamp's imprint matches"},
	{"validation time", "Thời điểm kiểm tra", "Validation time"},
	{"signer info chosen", "SignerInfo được kiểm tra", "The SignerInfo checked"},
	{"chain of ", "Chuỗi chứng thư đến chứng thư gốc tin cậy", "The certificate chain to a trust anchor"},
	{"key usage", "Mục đích sử dụng khóa", "Key usage"},
	{"revocation status", "Tình trạng thu hồi chứng thư", "Revocation status"},
}

// changeKinds words a change's kind.
var changeKinds = map[string][2]string{
	"added":     {"thêm mới", "added"},
	"modified":  {"sửa đổi", "modified"},
	"removed":   {"xóa", "removed"},
	"structure": {"cấu trúc tệp", "file structure"},
}

// coverages words a signature's coverage.
var coverages = map[Coverage][2]string{
	EntireFile:     {"toàn bộ tệp", "the entire file"},
	EntireRevision: {"toàn bộ một phiên bản trước của tệp", "an entire earlier revision of the file"},
	Partial:        {"một phần tệp, không đến hết phiên bản nào", "part of the file, up to the end of no revision"},
	Nonstandard:    {"vùng ký không theo dạng chuẩn", "byte ranges of no standard shape"},
}

func (l Lang) pick(p [2]string) string {
	if l == English {
		return p[1]
	}
	return p[0]
}

// match finds the explanation msg opens with and splits off its detail
// (a detail that opens with a finding of its own is worded as that, the
// more precise); failing that, one whose phrase msg contains, with msg as
// the detail.
func (l Lang) match(table []explanation, msg string) (Said, bool) {
	if s, ok := l.matchPrefix(table, msg); ok {
		if inner, ok := l.matchPrefix(table, s.Detail); ok && s.Detail != msg {
			return inner, true
		}
		return s, true
	}
	for _, e := range table {
		// Short phrases (CMS, TSA) name a topic, not a finding.
		if len(e.phrase) >= 14 && strings.Contains(msg, e.phrase) {
			return Said{Text: l.text(e), Detail: msg}, true
		}
	}
	return Said{}, false
}

func (l Lang) text(e explanation) string {
	if l == English {
		return e.en
	}
	return e.vi
}

func (l Lang) matchPrefix(table []explanation, msg string) (Said, bool) {
	for _, e := range table {
		rest, ok := strings.CutPrefix(msg, e.phrase)
		if !ok {
			continue
		}
		detail := strings.TrimSpace(rest)
		if after, ok := strings.CutPrefix(detail, ":"); ok {
			detail = strings.TrimSpace(after)
		} else if detail != "" {
			// The phrase runs on into its values: keep them in context.
			detail = msg
		}
		return Said{Text: l.text(e), Detail: detail}, true
	}
	return Said{}, false
}

// Error words a report error (a signature's "SUB-INDICATION: detail", or
// the file's own).
func (l Lang) Error(msg string) Said {
	sub, rest, hasSub := strings.Cut(msg, ": ")
	if hasSub {
		if _, known := subIndications[etsi.SubIndication(sub)]; known {
			msg = rest
		} else {
			hasSub = false
		}
	}
	if s, ok := l.match(errorPhrases, msg); ok {
		return s
	}
	if s, ok := l.match(warningPhrases, msg); ok {
		return s
	}
	if hasSub {
		return Said{Text: capitalize(l.SubIndication(etsi.SubIndication(sub))), Detail: msg}
	}
	return Said{Text: l.pick([2]string{"Lỗi do bộ kiểm tra ghi nhận", "An error the verifier found"}), Detail: msg}
}

// Warning words a report warning.
func (l Lang) Warning(msg string) Said {
	if s, ok := l.match(warningPhrases, msg); ok {
		return s
	}
	if s, ok := l.match(errorPhrases, msg); ok {
		return s
	}
	return Said{Text: l.pick([2]string{"Cảnh báo do bộ kiểm tra ghi nhận", "A warning the verifier gave"}), Detail: msg}
}

// CheckSaid words a check the verifier made, with its detail apart.
func (l Lang) CheckSaid(c Check) Said {
	if s, ok := l.match(checkNames, c.Name); ok {
		if s.Detail == c.Name {
			s.Detail = ""
		}
		if s.Detail == "" {
			s.Detail = c.Detail
		} else if c.Detail != "" {
			s.Detail += "; " + c.Detail
		}
		if c.Name != "" && s.Detail == "" && strings.HasPrefix(c.Name, "chain of ") {
			s.Detail = c.Name
		}
		return s
	}
	return Said{Text: l.pick([2]string{"Kiểm tra khác của bộ kiểm tra", "Another check of the verifier"}), Detail: strings.TrimSpace(c.Name + " " + c.Detail)}
}

// SubIndication describes a sub-indication in l ("" for none); an unknown
// one is its code.
func (l Lang) SubIndication(s etsi.SubIndication) string {
	if d, ok := subIndications[s]; ok {
		return l.pick(d)
	}
	return string(s)
}

// CoverageSaid describes what a signature covers in l.
func (l Lang) CoverageSaid(c Coverage) string {
	if d, ok := coverages[c]; ok {
		return l.pick(d)
	}
	return l.pick([2]string{"không xác định", "unknown"})
}

// ChangeKind words a change's kind in l.
func (l Lang) ChangeKind(kind string) string {
	if d, ok := changeKinds[kind]; ok {
		return l.pick(d)
	}
	return l.pick([2]string{"thay đổi khác", "other change"})
}

// RuleSaid describes the rule that cleared a change in l; "" when the rule
// has no description (its identifier is the technical detail then).
func (l Lang) RuleSaid(rule string) string {
	if rule == "" {
		return ""
	}
	if d := l.t("rule:" + rule); d != "rule:"+rule {
		return d
	}
	return ""
}

// DecodingSaid words a refused decoding budget ("" Text when none was).
func (l Lang) DecodingSaid(d Decoding) Said {
	if d.Exceeded == "" {
		return Said{}
	}
	text := strings.Replace(l.t("decode-budget"), "%s", mebibytes(d.Budget), 1)
	if d.Shared {
		text += " (" + l.t("decode-shared") + ")"
	}
	return Said{Text: text, Detail: d.Exceeded}
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}
