package ui

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"
)

// The directory's refusals on the pages: each refusal a person can cause
// through a form (package refusal names it) is worded here in Vietnamese
// and English, saying what to do; a refusal without a reason gets its
// kind's headline in the page's language before the service's own detail.

var _ = addMessages(map[string][2]string{
	"refusal.last-admin":                {"%s là người quản trị cuối cùng còn hoạt động của cơ quan; hãy giao vai trò quản trị cho một người khác trước.", "%s is the organisation's last enabled administrator; make someone else an administrator first."},
	"refusal.disable-self":              {"Không thể tự khóa hoặc mở khóa tài khoản của chính mình; hãy nhờ một người quản trị khác.", "You cannot disable or enable your own account; ask another administrator."},
	"refusal.superadmin-roles":          {"Quản trị hệ thống không giữ vai trò của cơ quan nào; hãy chọn một người dùng của cơ quan.", "The system administrator holds no roles of an organisation; choose a user of the organisation."},
	"refusal.unknown-role":              {"Không có vai trò %q; hãy chọn trong các vai trò: %s.", "There is no role %q; choose among the roles: %s."},
	"refusal.code-format":               {"Mã phải có 1–20 ký tự, không có dấu cách, dấu gạch chéo hay gạch nối (mã đi vào ký hiệu văn bản như 05/QĐ-UBND); hãy sửa mã.", "The code must be 1–20 characters without spaces, slashes or hyphens (it goes into document symbols such as 05/QĐ-UBND); correct it."},
	"refusal.name-required":             {"Hãy nhập tên.", "Enter a name."},
	"refusal.parent-unknown":            {"Cơ quan cấp trên đã chọn không còn; hãy chọn lại.", "The parent organisation chosen does not exist; choose again."},
	"refusal.org-code-taken":            {"Mã %s đã được một cơ quan khác dùng; hãy chọn mã khác.", "The code %s is taken by another organisation; choose another."},
	"refusal.unit-code-taken":           {"Mã %s đã được một đơn vị khác của cơ quan dùng; hãy chọn mã khác.", "The code %s is taken by another unit of the organisation; choose another."},
	"refusal.org-unknown":               {"Cơ quan đã chọn không còn; hãy chọn lại.", "The organisation chosen does not exist; choose again."},
	"refusal.username-format":           {"Tên đăng nhập gồm 2–64 chữ cái không dấu, chữ số, dấu chấm, gạch nối hoặc gạch dưới; hãy sửa tên đăng nhập.", "The username must be 2–64 letters without diacritics, digits, dots, hyphens or underscores; correct it."},
	"refusal.full-name-required":        {"Hãy nhập họ và tên.", "Enter the full name."},
	"refusal.weak-password":             {"Mật khẩu phải có ít nhất %d ký tự; hãy chọn mật khẩu dài hơn.", "The password must have at least %d characters; choose a longer one."},
	"refusal.unit-not-in-org":           {"Đơn vị %s không thuộc cơ quan; hãy chọn lại đơn vị.", "The unit %s is not a unit of the organisation; choose the units again."},
	"refusal.username-taken":            {"Tên đăng nhập %s đã có người dùng; hãy chọn tên khác.", "The username %s is taken; choose another."},
	"refusal.unknown-scope":             {"Không có phạm vi %q; hãy chọn trong các phạm vi: *, %s.", "There is no scope %q; choose among: *, %s."},
	"refusal.scope-beyond-maker":        {"Không thể cấp phạm vi %s mà chính bạn không có; hãy bỏ chọn phạm vi đó.", "You cannot grant the scope %s, which you do not hold yourself; leave it out."},
	"refusal.expires-past":              {"Ngày hết hạn đã qua; hãy chọn một ngày sau hôm nay.", "The expiry date has passed; choose a day after today."},
	"refusal.unknown-language":          {"Ngôn ngữ phải là một trong %v.", "The language must be one of %v."},
	"refusal.delegate-unknown":          {"Hãy chọn người được ủy quyền trong cơ quan.", "Choose the delegate among the organisation's people."},
	"refusal.period-required":           {"Hãy nhập ngày kết thúc: ủy quyền luôn có thời hạn.", "Enter the end date: a delegation is for a period."},
	"refusal.parent-delegation-unknown": {"Ủy quyền được chuyển tiếp không thuộc cơ quan; hãy chọn lại.", "The delegation passed on is not one of the organisation's; choose again."},
	"refusal.unknown-document-type":     {"Không có loại văn bản %q; hãy chọn trong danh sách.", "There is no document type %q; choose from the list."},
	"refusal.unknown-form":              {"Không có hình thức ký %q; hãy chọn TM., KT., Q., TL. hoặc TUQ.", "There is no authority form %q; choose TM., KT., Q., TL. or TUQ."},
	"refusal.delegate-self":             {"Không thể tự ủy quyền cho chính mình; hãy chọn người khác.", "Nobody delegates to themselves; choose someone else."},
	"refusal.delegate-other-org":        {"Hai người phải cùng thuộc cơ quan của ủy quyền; hãy chọn lại.", "Both people must belong to the delegation's organisation; choose again."},
	"refusal.delegate-disabled":         {"Tài khoản của %s đã bị khóa; hãy chọn người khác.", "The account of %s is disabled; choose someone else."},
	"refusal.delegate-not-signer":       {"%s không có vai trò người ký; hãy chọn một người ký hoặc giao vai trò người ký trước.", "%s does not hold the signer role; choose a signer, or give the role first."},
	"refusal.period-reversed":           {"Thời hạn kết thúc (%s) trước khi bắt đầu (%s); hãy sửa ngày.", "The period ends (%s) before it starts (%s); correct the dates."},
	"refusal.period-ended":              {"Thời hạn đã kết thúc ngày %s; hãy chọn ngày kết thúc sau hôm nay.", "The period already ended on %s; choose an end after today."},
	"refusal.basis-required":            {"TUQ. phải ghi căn cứ (văn bản ủy quyền); hãy nhập căn cứ.", "TUQ. needs the written authorisation it rests on; enter the basis."},
	"refusal.pass-tuq":                  {"Ủy quyền TUQ. không được ủy quyền tiếp.", "A TUQ. delegation may not be passed on."},
	"refusal.pass-not-tl":               {"Chỉ ủy quyền TL. mới được chuyển tiếp, không phải %s.", "Only a TL. delegation may be passed on, not %s."},
	"refusal.pass-as-tl":                {"Ủy quyền TL. chỉ được chuyển tiếp dưới hình thức TL.; hãy chọn TL.", "A TL. delegation can only be passed on as TL.; choose TL."},
	"refusal.pass-once":                 {"Ủy quyền TL. chỉ được chuyển tiếp một lần.", "A TL. delegation may be passed on only once."},
	"refusal.pass-done":                 {"Ủy quyền TL. này đã được chuyển tiếp rồi.", "This TL. delegation has already been passed on."},
	"refusal.pass-holder":               {"Chỉ người nhận ủy quyền mới được chuyển tiếp nó.", "Only the holder of a delegation may pass it on."},
	"refusal.pass-revoked":              {"Ủy quyền được chuyển tiếp đã bị chấm dứt.", "The delegation passed on was ended."},
	"refusal.pass-period":               {"Thời hạn phải nằm trong %s – %s; hãy sửa ngày.", "The period must lie within %s – %s; correct the dates."},
	"refusal.pass-types":                {"Loại văn bản phải nằm trong các loại đã được ủy quyền (%s); hãy chọn lại.", "The document types must lie within those delegated (%s); choose again."},
	"refusal.pass-units":                {"Đơn vị phải nằm trong các đơn vị đã được ủy quyền; hãy chọn lại.", "The units must lie within those delegated; choose again."},
	// Headlines of the refusals no reason names (the detail follows).
	"refusal.input":      {"Thông tin chưa hợp lệ", "A field is missing or invalid"},
	"refusal.delegation": {"Ủy quyền không hợp lệ", "The delegation is refused"},
	"refusal.key":        {"Khóa ký không được chấp nhận", "The key is refused"},
	"refusal.locked":     {"Đăng nhập sai quá nhiều lần; hãy thử lại sau", "Too many failed logins; try again later"},
	// The documents service's input refusals.
	"refusal.doc.empty":       {"Tệp rỗng; hãy chọn tệp PDF có nội dung", "The file is empty; choose a PDF with content"},
	"refusal.doc.notpdf":      {"Tệp không phải PDF; hãy chọn tệp PDF", "The file is not a PDF; choose a PDF"},
	"refusal.doc.encrypted":   {"Tệp PDF có mật khẩu; hãy gỡ mật khẩu rồi tải lên lại", "The PDF is encrypted; remove its password and upload it again"},
	"refusal.doc.truncated":   {"Tệp PDF bị cắt cụt; hãy tải lên lại tệp đầy đủ", "The PDF is truncated; upload the whole file again"},
	"refusal.doc.unparsable":  {"Không đọc được tệp PDF; hãy in lại ra PDF rồi tải lên", "The PDF cannot be read; print it to PDF again and upload that"},
	"refusal.doc.toolarge":    {"Tệp quá lớn", "The file is too large"},
	"refusal.doc.missing":     {"Chưa chọn tệp; hãy chọn tệp PDF", "No file was chosen; choose a PDF"},
	"refusal.doc.malformed":   {"Biểu mẫu gửi lên không đúng; hãy tải lại trang và gửi lại", "The form sent is malformed; reload the page and send it again"},
	"refusal.doc.field":       {"Thông tin chưa hợp lệ", "A field is invalid"},
	"refusal.doc.cursor":      {"Liên kết trang không còn hợp lệ; hãy mở lại danh sách", "The page link is no longer valid; open the list again"},
	"refusal.doc.unknownunit": {"Đơn vị không thuộc cơ quan; hãy chọn lại", "The unit is not one of the organisation's; choose again"},
})

// documentInputs words the documents service's input kinds.
var documentInputs = []struct {
	kind error
	key  string
}{
	{documents.ErrEmptyFile, "refusal.doc.empty"},
	{documents.ErrNotPDF, "refusal.doc.notpdf"},
	{documents.ErrEncryptedPDF, "refusal.doc.encrypted"},
	{documents.ErrTruncatedPDF, "refusal.doc.truncated"},
	{documents.ErrUnparsablePDF, "refusal.doc.unparsable"},
	{documents.ErrTooLarge, "refusal.doc.toolarge"},
	{documents.ErrMissingFile, "refusal.doc.missing"},
	{documents.ErrMalformedBody, "refusal.doc.malformed"},
	{documents.ErrInvalidField, "refusal.doc.field"},
	{documents.ErrInvalidCursor, "refusal.doc.cursor"},
	{documents.ErrUnknownUnit, "refusal.doc.unknownunit"},
}

// documentInput is the reader's words for a documents input kind, with
// detail (the field or value concerned) after it; the kind's own English
// text when no wording is known.
func (u *UI) documentInput(r *http.Request, kind error, detail string) string {
	msg := kind.Error()
	for _, k := range documentInputs {
		if errors.Is(kind, k.kind) {
			msg = u.tr(r, k.key)
			break
		}
	}
	if errors.Is(kind, documents.ErrInvalidField) || u.lang(r) == "en" {
		// The other kinds' wordings say all there is to do; a field's
		// detail names the field.
		return u.withDetail(r, msg, detail)
	}
	return msg
}

// reasonWords is the reader's wording of err's reason (package refusal),
// with its arguments; ok is false when err names no reason or the reason
// has no wording.
func (u *UI) reasonWords(r *http.Request, err error) (string, bool) {
	reason, args := refusal.Of(err)
	if reason == (refusal.Reason{}) {
		return "", false
	}
	key := reasonKey(reason)
	if _, known := messages["vi"][key]; !known {
		return "", false
	}
	words := u.tr(r, key, u.termArgs(r, args)...)
	if strings.Contains(words, "%!") {
		// The service gave other arguments than the wording takes: the
		// kind's headline and detail say it better than a garbled line.
		return "", false
	}
	return words, true
}

// termPrefixes: the message keys of each set of terms a reason's
// arguments name (package refusal's Term), the words the pages already
// show for them; the one place a refusal's argument is put into the
// reader's language.
var termPrefixes = map[string]string{
	"kind":     "kind.",
	"rule":     "chain.rule.",
	"role":     "role.",
	"status":   "status.",
	"action":   "action.",
	"language": "lang.name.",
}

var _ = addMessages(map[string][2]string{
	"lang.name.vi": {"Tiếng Việt", "Vietnamese"},
	"lang.name.en": {"Tiếng Anh", "English"},
})

// TermWords is a term in lang: its set's word, else (a value outside the
// vocabulary, as a person typed it) the value itself.
func TermWords(lang string, t refusal.Term) string {
	prefix, ok := termPrefixes[t.Set]
	if !ok {
		return t.Value
	}
	key := prefix + t.Value
	if _, known := messages[lang][key]; !known {
		return t.Value
	}
	w := translate(messages[lang], key)
	if strings.Contains(w, "%") {
		return t.Value // a word that takes a number of its own
	}
	// Mid-sentence: "thẩm định", "review".
	if first, size := utf8.DecodeRuneInString(w); first != utf8.RuneError && strings.ToUpper(w) != w {
		w = string(unicode.ToLower(first)) + w[size:]
	}
	return w
}

// termArgs puts a reason's term arguments into the reader's language; the
// others (names, numbers, dates a person gave) stay as they are.
func (u *UI) termArgs(r *http.Request, args []any) []any { return termArgsIn(u.lang(r), args) }

func termArgsIn(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case refusal.Term:
			out[i] = TermWords(lang, a)
		case refusal.Terms:
			words := make([]string, len(a))
			for j, t := range a {
				words[j] = TermWords(lang, t)
			}
			out[i] = strings.Join(words, ", ")
		default:
			out[i] = a
		}
	}
	return out
}

// inputWords is the reader's words for a refused input err (in is the
// accounts.InputError it carries): its reason's wording, else the
// headline in the page's language before the service's own detail. The
// form shown again with these words links the field err is about (as
// formRefused does).
func (u *UI) inputWords(r *http.Request, err error, in *accounts.InputError) string {
	refuseField(r, fieldOf(err))
	if words, ok := u.reasonWords(r, err); ok {
		return words
	}
	return u.withDetail(r, u.tr(r, "refusal.input"), in.Msg)
}

// reasonKey is the message key of a reason's wording.
func reasonKey(reason refusal.Reason) string { return "refusal." + reason.String() }

// explainAccounts is explain for the directory's refusals: their status,
// and their words in the page's language. ok is false for an error that is
// none of them.
func (u *UI) explainAccounts(r *http.Request, err error) (status int, msg string, ok bool) {
	var in *accounts.InputError
	var locked *accounts.LockedError
	headline, detail := "", err.Error()
	switch {
	case errors.Is(err, accounts.ErrLastAdmin):
		status = http.StatusConflict
	case errors.Is(err, accounts.ErrForbidden):
		status, headline = http.StatusForbidden, "error.forbidden"
		detail = strings.TrimPrefix(detail, accounts.ErrForbidden.Error()+": ")
	case errors.As(err, &in):
		status, headline, detail = http.StatusUnprocessableEntity, "refusal.input", in.Msg
	case errors.Is(err, accounts.ErrDelegation):
		status, headline = http.StatusUnprocessableEntity, "refusal.delegation"
		detail = strings.TrimPrefix(detail, accounts.ErrDelegation.Error()+": ")
	case errors.Is(err, accounts.ErrKeyRefused):
		status, headline = http.StatusUnprocessableEntity, "refusal.key"
		detail = strings.TrimPrefix(detail, accounts.ErrKeyRefused.Error()+": ")
	case errors.As(err, &locked):
		status, headline = http.StatusTooManyRequests, "refusal.locked"
	default:
		return 0, "", false
	}
	if headline == "" {
		return status, detail, true
	}
	if headline == "error.forbidden" && u.lang(r) == "en" {
		return status, u.tr(r, headline) + " " + detail, true
	}
	return status, u.withDetail(r, u.tr(r, headline), detail), true
}
