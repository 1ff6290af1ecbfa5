package ui

// The texts of what the pages offer to whoever works without a mouse
// (the keyboard walk, browser_keyboard_test.go): the signature's place
// chosen among preset spots of a page instead of a click on the preview
// (static/js/preview.js).
var _ = addMessages(map[string][2]string{
	"place.spot":               {"Hoặc chọn vị trí có sẵn (dùng phím mũi tên)", "Or choose a preset spot (arrow keys)"},
	"place.spot.hint":          {"Chuyển đến trang cần ký bằng nút trang trước/trang sau, rồi chọn vị trí trên trang đó.", "Go to the page with the previous/next page buttons, then choose a spot on it."},
	"place.spot.bottom-right":  {"Góc dưới bên phải", "Bottom right"},
	"place.spot.bottom-center": {"Giữa, cuối trang", "Bottom centre"},
	"place.spot.bottom-left":   {"Góc dưới bên trái", "Bottom left"},
	"place.spot.top-right":     {"Góc trên bên phải", "Top right"},
})
