package certify

import (
	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"

	"github.com/vanthu/vanthu/internal/pdffont"
)

// The statement and the receipt are set in Liberation Serif (metrically
// Times New Roman, the face Decree 30 asks for), embedded by pdffont so the
// Vietnamese text renders in any viewer and pdftotext reads it back.
var (
	serif     = pdffont.Face{Name: "LiberationSerif", TTF: liberationserifregular.TTF}
	serifBold = pdffont.Face{Name: "LiberationSerif-Bold", TTF: liberationserifbold.TTF}
)

// newFont starts a document's use of the regular or the bold face.
func newFont(bold bool) (*pdffont.Font, error) {
	if bold {
		return serifBold.Font()
	}
	return serif.Font()
}

// flateStream is a stream object body, compressed.
func flateStream(extra string, data []byte) []byte { return pdffont.FlateStream(extra, data) }
