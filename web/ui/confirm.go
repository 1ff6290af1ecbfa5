package ui

// The questions the pages ask before a step nobody can take back (the
// forms' data-confirm, asked by static/js/forms.js): the document leaves
// its reader, who cannot undo it by going back.
var _ = addMessages(map[string][2]string{
	"confirm.return":         {"Trả lại văn bản cho người trình? Văn bản sẽ rời khỏi hộp công việc của bạn.", "Return the document to its drafter? It leaves your inbox."},
	"confirm.reject":         {"Từ chối ký văn bản này? Luồng trình ký sẽ dừng lại.", "Refuse to sign this document? Its approval chain stops."},
	"confirm.withdraw":       {"Rút văn bản khỏi luồng trình ký? Các ý kiến đang chờ sẽ bị hủy.", "Withdraw the document from its approval chain? The opinions still awaited are cancelled."},
	"confirm.arrival.return": {"Trả lại văn bản cho nơi gửi? Văn bản sẽ không được vào sổ.", "Return the document to its sender? It is not registered."},
	"confirm.recall":         {"Thu hồi văn bản này? Văn bản bị đóng băng, nơi nhận phải ngừng xử lý; không hoàn tác được.", "Recall this document? It is frozen and every recipient must stop handling it; this cannot be undone."},
	"confirm.refuse":         {"Từ chối chứng thực yêu cầu này? Người yêu cầu sẽ nhận văn bản từ chối.", "Refuse to certify this request? The requester receives the refusal."},
})
