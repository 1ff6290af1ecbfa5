package verify

import "strings"

// phrases translates the fixed sentences that open report errors and
// warnings. The JSON report keeps the English (it is for programs); the
// text and PDF reports show each phrase in the reader's language, with the
// details (names, serials, object numbers) after it unchanged.
var phrases = map[Lang][][2]string{
	Vietnamese: {
		{phraseSeveralSigners, "CMS chứa nhiều SignerInfo; SignerInfo có chứng thư là chứng thư ký được kiểm tra, các SignerInfo còn lại được liệt kê"},
		{phraseNegativeSerial, "chấp nhận chứng thư số có số hiệu (serial) âm (RFC 5280 yêu cầu số hiệu dương; các CA và công cụ cũ từng cấp loại này)"},
		{"malformed signature: ", "chữ ký sai cấu trúc: "},
		{"unknown signature algorithm", "thuật toán chữ ký không xác định"},
		{"unknown digest algorithm", "thuật toán băm không xác định"},
		{"the signature algorithm contradicts the SignerInfo digest algorithm", "thuật toán chữ ký mâu thuẫn với thuật toán băm của SignerInfo"},
		{"algorithm policy: ", "chính sách thuật toán: "},
	},
}

// say renders a report error or warning in l: every known phrase in it is
// replaced by its translation.
func (l Lang) say(s string) string {
	for _, p := range phrases[l] {
		if strings.Contains(s, p[0]) {
			s = strings.ReplaceAll(s, p[0], p[1])
		}
	}
	return s
}
