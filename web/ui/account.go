package ui

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/storage"
)

// accountSection: each person's own account — who they are, their
// language, their handwritten-signature image, their password, their keys
// and API tokens — and what an administrator sets about one of their
// organisation's people (the image, a new password) on that person's
// page. accounts and docsign decide who may; the pages only choose what to
// offer.
var accountSection = section{routes: func(u *UI, r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(u.signedIn)
		r.Get("/account", u.accountPage)
		r.Post("/account/signature-image", u.uploadOwnImage)
		r.Post("/account/password", u.changeOwnPassword)
		r.Post("/account/tokens/{id}/revoke", u.revokeOwnToken)
		r.Post("/admin/users/{id}/signature-image", u.uploadPersonImage)
		r.Post("/admin/users/{id}/password", u.setPersonPassword)
	})
}}

var _ = addMessages(map[string][2]string{
	"account.title":            {"Tài khoản của tôi", "My account"},
	"account.link":             {"Tài khoản của %s", "Account of %s"},
	"account.who":              {"Thông tin tài khoản", "Who I am"},
	"account.fullname":         {"Họ và tên", "Full name"},
	"account.username":         {"Tên đăng nhập", "Username"},
	"account.jobtitle":         {"Chức vụ", "Title"},
	"account.org":              {"Cơ quan", "Organisation"},
	"account.units":            {"Đơn vị", "Units"},
	"account.roles":            {"Vai trò", "Roles"},
	"account.superadmin":       {"Quản trị hệ thống", "System administrator"},
	"account.delegations":      {"Ủy quyền ký", "Signing delegations"},
	"account.deleg.held":       {"%s ủy quyền cho tôi (%s.)", "%s delegated to me (%s.)"},
	"account.deleg.given":      {"Tôi ủy quyền cho %s (%s.)", "I delegated to %s (%s.)"},
	"account.language":         {"Ngôn ngữ", "Language"},
	"account.language.save":    {"Đổi ngôn ngữ", "Change the language"},
	"account.language.vi":      {"Tiếng Việt", "Tiếng Việt (Vietnamese)"},
	"account.language.en":      {"English (tiếng Anh)", "English"},
	"account.image":            {"Ảnh chữ ký tay", "Handwritten-signature image"},
	"account.image.intro":      {"Khi ký số, ảnh này được đặt vào khoảng trống giữa chức vụ và họ tên đã in trên văn bản.", "When signing, this image is placed in the gap between the printed title and the printed name."},
	"account.image.none":       {"Chưa có ảnh chữ ký tay: chưa thể ký văn bản trong hệ thống.", "No handwritten-signature image yet: documents cannot be signed in the service."},
	"account.image.current":    {"Ảnh chữ ký hiện tại (%d×%d điểm ảnh, cập nhật %s)", "Current signature image (%d×%d pixels, updated %s)"},
	"account.image.alt":        {"Chữ ký tay của %s", "Handwritten signature of %s"},
	"account.image.preview":    {"Vị trí trên văn bản", "Where it sits on a document"},
	"account.image.file":       {"Tệp ảnh chữ ký (PNG)", "Signature image file (PNG)"},
	"account.image.rules":      {"Tệp PNG nền trong suốt, tối đa %s và %d×%d điểm ảnh.", "A PNG with a transparent background, at most %s and %d×%d pixels."},
	"account.image.upload":     {"Tải ảnh lên", "Upload the image"},
	"account.image.replace":    {"Thay ảnh", "Replace the image"},
	"account.image.saved":      {"Đã lưu ảnh chữ ký tay.", "The signature image was saved."},
	"account.image.missing":    {"Chưa chọn tệp ảnh; hãy chọn một tệp PNG.", "No image file was chosen; choose a PNG file."},
	"account.password":         {"Đổi mật khẩu", "Change my password"},
	"account.password.current": {"Mật khẩu hiện tại", "Current password"},
	"account.password.new":     {"Mật khẩu mới", "New password"},
	"account.password.again":   {"Nhập lại mật khẩu mới", "New password again"},
	"account.password.rules":   {"Mật khẩu mới có ít nhất %d ký tự (tối đa %d byte), không có ký tự điều khiển và khác mật khẩu hiện tại. Sau khi đổi, các phiên đăng nhập khác của bạn kết thúc; phiên này vẫn tiếp tục.", "The new password has at least %d characters (at most %d bytes), no control characters, and differs from the current one. Once changed, your other sessions end; this one goes on."},
	"account.password.save":    {"Đổi mật khẩu", "Change the password"},
	"account.password.changed": {"Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.", "The password was changed. Your other sessions have ended."},
	"account.password.wrong":   {"Mật khẩu hiện tại không đúng. Lần nhập sai được tính như một lần đăng nhập sai.", "The current password is wrong. The attempt counts as a failed login."},
	"account.password.differ":  {"Hai lần nhập mật khẩu mới không khớp; hãy nhập lại.", "The two new passwords differ; type them again."},
	"account.keys":             {"Khóa ký số của tôi", "My signing keys"},
	"account.keys.none":        {"Chưa có khóa ký số nào gắn với tài khoản; hãy liên hệ quản trị.", "No signing key is bound to the account; ask an administrator."},
	"account.keys.until":       {"Hiệu lực đến", "Valid until"},
	"account.tokens":           {"Mã truy cập API của tôi", "My API tokens"},
	"account.token.name":       {"Tên", "Name"},
	"account.token.scopes":     {"Phạm vi", "Scopes"},
	"account.token.expires":    {"Hết hạn", "Expires"},
	"account.token.never":      {"không hết hạn", "never"},
	"account.token.revoke":     {"Thu hồi", "Revoke"},
	"account.token.revoke.l":   {"Thu hồi mã truy cập %s", "Revoke the token %s"},
	"account.token.revoked":    {"Đã thu hồi mã truy cập %s.", "The token %s was revoked."},
	"account.token.all":        {"tất cả", "all"},
	"person.title":             {"Ảnh chữ ký và mật khẩu", "Signature image and password"},
	"person.image.saved":       {"Đã lưu ảnh chữ ký tay của %s.", "The signature image of %s was saved."},
	"person.password":          {"Đặt mật khẩu mới", "Set a new password"},
	"person.password.new":      {"Mật khẩu mới cho người này", "New password for this person"},
	"person.password.rules":    {"Ít nhất %d ký tự (tối đa %d byte). Mọi phiên đăng nhập của người này kết thúc ngay; hãy báo mật khẩu mới cho họ qua kênh an toàn.", "At least %d characters (at most %d bytes). Every session of this person ends now; give them the new password through a safe channel."},
	"person.password.save":     {"Đặt mật khẩu", "Set the password"},
	"person.password.set":      {"Đã đặt mật khẩu mới cho %s; các phiên đăng nhập của họ đã kết thúc.", "A new password was set for %s; their sessions have ended."},
	"sign.image.fix":           {"Tải ảnh chữ ký tay lên ở trang tài khoản", "Upload your handwritten-signature image on your account page"},
	// The directory's refusals of a password.
	"refusal.wrong-password":   {"Mật khẩu hiện tại không đúng; hãy nhập lại.", "The current password is wrong; type it again."},
	"refusal.long-password":    {"Mật khẩu dài quá %d byte; hãy chọn mật khẩu ngắn hơn.", "The password is longer than %d bytes; choose a shorter one."},
	"refusal.same-password":    {"Mật khẩu mới trùng mật khẩu hiện tại; hãy chọn mật khẩu khác.", "The new password is the current one; choose another."},
	"refusal.password-control": {"Mật khẩu không được chứa ký tự điều khiển (như xuống dòng); hãy gõ lại mật khẩu.", "The password must not contain control characters (such as a line break); type it again."},
	"refusal.password-self":    {"Mật khẩu của chính mình được đổi ở trang tài khoản, với mật khẩu hiện tại.", "Your own password is changed on your account page, with your current one."},
})

type accountData struct {
	User     storage.User
	OrgName  string
	Units    []string
	Deleg    []delegLine
	Lang     string
	Image    *storage.SignatureImage
	CanImage bool
	Limits   imageLimits
	Rules    accounts.PasswordRules
	Keys     []storage.KeyBinding
	Tokens   []storage.Token
	Notice   string
}

type delegLine struct {
	Key, Name, Form string
	Delegation      storage.Delegation
}

// imageLimits are docsign's limits of a signature image, stated on the
// page (docsign checks them).
type imageLimits struct {
	Bytes         int64
	Width, Height int
}

var signatureImageLimits = imageLimits{Bytes: docsign.MaxImageBytes, Width: docsign.MaxImageWidth, Height: docsign.MaxImageHeight}

func (u *UI) accountPage(w http.ResponseWriter, r *http.Request) {
	notice := ""
	q := r.URL.Query()
	switch {
	case q.Get("saved") == "image":
		notice = u.tr(r, "account.image.saved")
	case q.Get("saved") == "password":
		notice = u.tr(r, "account.password.changed")
	case q.Get("revoked") != "":
		notice = u.tr(r, "account.token.revoked", q.Get("revoked"))
	}
	u.showAccount(w, r, http.StatusOK, "", notice)
}

// showAccount shows the account page of the person signed in, with a
// refusal (errMsg) or a notice.
func (u *UI) showAccount(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	p, _ := principal(r.Context())
	ctx := r.Context()
	d := accountData{User: p.User, Lang: u.lang(r), Limits: signatureImageLimits, Rules: accounts.Rules(), Notice: notice}
	if p.OrganizationID != "" {
		org, err := u.cfg.Accounts.Organization(ctx, p, p.OrganizationID)
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		d.OrgName = org.Name
		units, err := u.cfg.Accounts.Units(ctx, p, p.OrganizationID)
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		for _, un := range units {
			if slices.Contains(p.UnitIDs, un.ID) {
				d.Units = append(d.Units, un.Code+" — "+un.Name)
			}
		}
		if err := u.accountDelegations(r, p, &d); err != nil {
			u.failErr(w, r, err)
			return
		}
	}
	// What the services refuse to show this person (a keyless account of
	// no organisation) is left out, not an error.
	var err error
	if d.Keys, err = u.cfg.Accounts.Keys(ctx, p, p.ID); err != nil && !refusedToSee(err) {
		u.failErr(w, r, err)
		return
	}
	if d.Tokens, err = u.cfg.Accounts.Tokens(ctx, p, p.ID); err != nil && !refusedToSee(err) {
		u.failErr(w, r, err)
		return
	}
	d.CanImage = u.cfg.SignatureImage != nil && accounts.Authorize(p, accounts.KeyBind, accounts.Target{OrgID: p.OrganizationID, UserID: p.ID}) == nil
	if d.CanImage {
		si, err := u.cfg.SignatureImage(ctx, p, p.ID)
		switch {
		case err == nil:
			d.Image = &si
		case !errors.Is(err, storage.ErrNotFound):
			u.failErr(w, r, err)
			return
		}
	}
	u.renderErr(w, r, status, "account", "account.title", errMsg, d)
}

// refusedToSee reports whether err is a service declining to show
// something (not found or forbidden) rather than failing.
func refusedToSee(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, accounts.ErrForbidden)
}

// accountDelegations lists the live delegations p holds or gave, with the
// other person's name.
func (u *UI) accountDelegations(r *http.Request, p accounts.Principal, d *accountData) error {
	ds, err := u.cfg.Accounts.Delegations(r.Context(), p, p.OrganizationID, p.ID)
	if err != nil {
		if refusedToSee(err) {
			return nil
		}
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	people, err := u.cfg.Accounts.Users(r.Context(), p, p.OrganizationID)
	if err != nil && !refusedToSee(err) {
		return err
	}
	names := map[string]string{}
	for _, x := range people {
		names[x.ID] = x.FullName
	}
	now := nowFunc()
	for _, x := range ds {
		if x.RevokedAt != nil || !x.EndsAt.After(now) {
			continue
		}
		line := delegLine{Key: "account.deleg.held", Name: names[x.FromUser], Form: x.Form, Delegation: x}
		if x.FromUser == p.ID {
			line.Key, line.Name = "account.deleg.given", names[x.ToUser]
		}
		d.Deleg = append(d.Deleg, line)
	}
	return nil
}

// readImageUpload finds the file part "image" of a multipart form whose
// body is limited to a little over the image limit, so that a file a few
// bytes too large reaches docsign's own refusal; what is far larger ends at
// the limit and gets the same words.
func (u *UI) readImageUpload(w http.ResponseWriter, r *http.Request) (*multipart.Part, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 2*docsign.MaxImageBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, false
		}
		if part.FormName() == "image" && part.FileName() != "" {
			return part, true
		}
		_ = part.Close()
	}
}

// imageRefusal words a refused upload: the body limit as docsign's size
// refusal, a missing file, or the service's own refusal.
func (u *UI) imageRefusal(r *http.Request, err error) (int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, u.tr(r, "refusal.sign.image-too-large", docsign.MaxImageBytes)
	case errors.Is(err, errNoImageFile):
		return http.StatusUnprocessableEntity, u.tr(r, "account.image.missing")
	case errors.Is(err, docsign.ErrImageTooLarge):
		status, msg := u.explain(r, err)
		if status == http.StatusInternalServerError {
			msg = u.tr(r, "refusal.sign.image-too-large", docsign.MaxImageBytes)
		}
		return http.StatusRequestEntityTooLarge, msg
	case errors.Is(err, docsign.ErrBadImage):
		status, msg := u.explain(r, err)
		if status == http.StatusInternalServerError {
			// A PNG that does not decode names no reason: the not-PNG
			// wording says what to do about it.
			msg = u.tr(r, "refusal.sign.image-not-png")
		}
		return http.StatusUnprocessableEntity, msg
	}
	return u.explain(r, err)
}

var errNoImageFile = errors.New("no image file in the form")

// putImage stores the uploaded image of userID through docsign.
func (u *UI) putImage(w http.ResponseWriter, r *http.Request, userID string) error {
	if u.cfg.PutSignatureImage == nil {
		return storage.ErrNotFound
	}
	part, ok := u.readImageUpload(w, r)
	if !ok {
		// The body may have ended at the limit: say so rather than that no
		// file was sent.
		var mbe *http.MaxBytesError
		if _, err := io.Copy(io.Discard, r.Body); errors.As(err, &mbe) {
			return err
		}
		return errNoImageFile
	}
	defer part.Close()
	p, _ := principal(r.Context())
	_, err := u.cfg.PutSignatureImage(r.Context(), p, userID, part)
	return err
}

// imageRefused answers a refused signature-image upload: the page the
// form is on again, with the refusal, or the error page for what is no
// refusal of the image (not found, forbidden, a failure).
func (u *UI) imageRefused(w http.ResponseWriter, r *http.Request, err error, show func(status int, msg string)) {
	status, msg := u.imageRefusal(r, err)
	if status == http.StatusInternalServerError || status == http.StatusNotFound || status == http.StatusForbidden {
		u.failErr(w, r, err)
		return
	}
	r.Method = http.MethodGet
	show(status, msg)
}

func (u *UI) uploadOwnImage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if err := u.putImage(w, r, p.ID); err != nil {
		u.imageRefused(w, r, err, func(status int, msg string) { u.showAccount(w, r, status, msg, "") })
		return
	}
	http.Redirect(w, r, "/account?saved=image#signature-image", http.StatusSeeOther)
}

func (u *UI) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	if f.Get("new_password") != f.Get("new_password2") {
		u.showAccount(w, r, http.StatusUnprocessableEntity, u.tr(r, "account.password.differ"), "")
		return
	}
	err := u.cfg.Accounts.ChangePassword(r.Context(), p, f.Get("current_password"), f.Get("new_password"), u.cfg.ClientAddress(r))
	var locked *accounts.LockedError
	switch {
	case err == nil:
		http.Redirect(w, r, "/account?saved=password#password", http.StatusSeeOther)
	case errors.Is(err, accounts.ErrWrongPassword):
		u.showAccount(w, r, http.StatusForbidden, u.tr(r, "account.password.wrong"), "")
	case errors.As(err, &locked):
		wait := int(locked.Until.Sub(nowFunc()).Seconds()) + 1
		u.showAccount(w, r, http.StatusTooManyRequests, u.tr(r, "login.locked", max(1, wait)), "")
	default:
		u.formRefused(w, r, err, func(status int, msg string) { u.showAccount(w, r, status, msg, "") })
	}
}

func (u *UI) revokeOwnToken(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	// Only one's own tokens are revoked here (an administrator revokes
	// others' on the administration's tokens page).
	mine, err := u.cfg.Accounts.Tokens(r.Context(), p, p.ID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	i := slices.IndexFunc(mine, func(t storage.Token) bool { return t.ID == id })
	if i < 0 {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	if err := u.cfg.Accounts.RevokeToken(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?"+url.Values{"revoked": {mine[i].Name}}.Encode()+"#tokens", http.StatusSeeOther)
}

// personAccount is what the people page shows an administrator about a
// person's signature image and password.
type personAccount struct {
	Image       *storage.SignatureImage
	CanImage    bool
	CanPassword bool
	Limits      imageLimits
	Rules       accounts.PasswordRules
}

// personAccountOf is personAccount for target as p may see it.
func (u *UI) personAccountOf(r *http.Request, p accounts.Principal, target storage.User) (personAccount, error) {
	pa := personAccount{Limits: signatureImageLimits, Rules: accounts.Rules(), CanPassword: target.ID != p.ID}
	pa.CanImage = u.cfg.SignatureImage != nil && target.ID != p.ID &&
		accounts.Authorize(p, accounts.KeyBind, accounts.Target{OrgID: target.OrganizationID, UserID: target.ID}) == nil
	if pa.CanImage {
		si, err := u.cfg.SignatureImage(r.Context(), p, target.ID)
		switch {
		case err == nil:
			pa.Image = &si
		case !errors.Is(err, storage.ErrNotFound):
			return pa, err
		}
	}
	return pa, nil
}

// uploadPersonImage stores a person's signature image as an administrator
// of their organisation; docsign refuses anyone else (another
// organisation's person is not found).
func (u *UI) uploadPersonImage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	p, _ := principal(r.Context())
	target, err := u.cfg.Accounts.User(r.Context(), p, id)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.putImage(w, r, target.ID); err != nil {
		u.imageRefused(w, r, err, func(status int, msg string) { u.showRoles(w, r, status, msg, "") })
		return
	}
	r.Method = http.MethodGet
	u.showRoles(w, r, http.StatusOK, "", u.tr(r, "person.image.saved", target.FullName))
}

// setPersonPassword gives a person a new password as an administrator of
// their organisation (accounts.SetPassword decides), ending their sessions.
func (u *UI) setPersonPassword(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	updated, err := u.cfg.Accounts.SetPassword(r.Context(), p, chi.URLParam(r, "id"), r.PostForm.Get("new_password"))
	r.Method = http.MethodGet
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) { u.showRoles(w, r, status, msg, "") })
		return
	}
	u.showRoles(w, r, http.StatusOK, "", u.tr(r, "person.password.set", updated.FullName))
}

// fixKey carries the way out of a refusal to the page that shows it.
type fixKey struct{}

// withFix returns r carrying the way out of err, when it has one: a
// signature refused for want of an image leads to the account page, where
// the signer uploads one.
func withFix(r *http.Request, err error) *http.Request {
	if errors.Is(err, docsign.ErrNoImage) {
		return r.WithContext(context.WithValue(r.Context(), fixKey{}, fixLink{Path: "/account#signature-image", Key: "sign.image.fix"}))
	}
	return r
}

// fixLink is a refusal's way out: where, and its words' key.
type fixLink struct{ Path, Key string }

// fixOf is the way out withFix put on r, as the page shows it.
func fixOf(r *http.Request, pg *Page) *navLink {
	f, ok := r.Context().Value(fixKey{}).(fixLink)
	if !ok {
		return nil
	}
	return &navLink{Path: f.Path, Label: pg.T(f.Key)}
}
