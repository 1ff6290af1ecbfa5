package certify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/vanthu/vanthu/internal/pdffont"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// receipt makes the receipt handed to the citizen, stores it and returns
// its key. It carries the download link as text and as a QR code: the
// token exists nowhere else once the request is answered, and the receipt
// is the citizen's (the blob store holds the copies themselves anyway).
func (j *job) receipt(ctx context.Context, tx pgx.Tx, c storage.Certification, out Certified) (string, error) {
	link := j.origin + LinkPath(j.token, 1)
	pdf, err := receiptPDF(receiptData{Organization: j.org.Name, Certification: c, Number: out.Number, Book: out.Book,
		CertifiedAt: out.CertifiedAt, Certifier: j.p.FullName, Links: linksOf(out), QR: link, Expires: out.LinkExpires})
	if err != nil {
		return "", err
	}
	info, err := j.s.Docs.Blobs.Put(ctx, bytes.NewReader(pdf), blob.PutOptions{})
	if err != nil {
		return "", fmt.Errorf("store receipt: %w", err)
	}
	j.stored = append(j.stored, info.Key)
	if err := storage.LockBlob(ctx, tx, info.Key); err != nil {
		return "", err
	}
	return info.Key, nil
}

// drawQR writes to cs the QR code of url as filled squares (vector, sharp
// at any zoom) on a white square of side side at x0, y0, with its quiet
// zone, at medium error correction (readable with a stain).
func drawQR(cs *strings.Builder, url string, x0, y0, side float64) error {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	bm := q.Bitmap()
	module := side / float64(len(bm))
	fmt.Fprintf(cs, "q 1 1 1 rg %.3f %.3f %.3f %.3f re f 0 0 0 rg\n", x0, y0, side, side)
	for r, row := range bm {
		for col, dark := range row {
			if dark {
				fmt.Fprintf(cs, "%.3f %.3f %.3f %.3f re\n", x0+float64(col)*module, y0+side-float64(r+1)*module, module, module)
			}
		}
	}
	cs.WriteString("f Q\n")
	return nil
}

func linksOf(out Certified) []string {
	links := make([]string, len(out.Copies))
	for i, c := range out.Copies {
		links[i] = c.DownloadURL
	}
	return links
}

type receiptData struct {
	Organization  string
	Certification storage.Certification
	Number        int
	Book          string
	CertifiedAt   time.Time
	Certifier     string
	Links         []string
	QR            string
	Expires       time.Time
}

// formatMoney writes đồng with dots between thousands, as receipts do:
// 10.000 đ.
func formatMoney(v int64) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + " đ"
}

// receiptPDF draws the one-page A4 receipt: text in the embedded serif
// face, the QR code as filled squares (vector, sharp at any zoom).
func receiptPDF(d receiptData) ([]byte, error) {
	regular, err := newFont(false)
	if err != nil {
		return nil, err
	}
	bold, err := newFont(true)
	if err != nil {
		return nil, err
	}
	const pageW, pageH, margin = 595.28, 841.89, 56.0
	c := d.Certification
	var cs strings.Builder
	y := pageH - margin
	line := func(f *pdffont.Font, res string, size float64, s string, centre bool) {
		x := margin
		for size > 6 && f.Width(s, size) > pageW-2*margin {
			size -= 0.5
		}
		if centre {
			x = (pageW - f.Width(s, size)) / 2
		}
		y -= size * 1.45
		fmt.Fprintf(&cs, "BT /%s %.1f Tf %.2f %.2f Td %s Tj ET\n", res, size, x, y, f.Hex(s))
	}
	local := func(t time.Time) string { return t.In(Vietnam).Format("15:04 02/01/2006") }
	line(bold, "F2", 12, strings.ToUpper(d.Organization), true)
	y -= 8
	line(bold, "F2", 15, "GIẤY BIÊN NHẬN VÀ HẸN TRẢ KẾT QUẢ", true)
	line(regular, "F1", 11, "Chứng thực bản sao điện tử từ bản chính", true)
	y -= 12
	rows := [][2]string{
		{"Người yêu cầu", c.RequesterName},
		{"Số giấy tờ tùy thân", c.RequesterIDNumber},
		{"Tên bản chính giấy tờ", c.OriginalName},
		{"Số trang", fmt.Sprint(c.PageCount)},
		{"Số bản sao", fmt.Sprint(c.Copies)},
		{"Lệ phí", formatMoney(c.Fee)},
		{"Tiếp nhận lúc", local(c.ReceivedAt)},
		{"Hẹn trả kết quả", local(c.DueAt)},
		{"Số chứng thực", fmt.Sprintf("%d, quyển số %s", d.Number, d.Book)},
		{"Chứng thực lúc", local(d.CertifiedAt)},
		{"Người thực hiện chứng thực", d.Certifier},
	}
	for _, r := range rows {
		line(regular, "F1", 11, r[0]+": "+r[1], false)
	}
	y -= 10
	line(bold, "F2", 11, "Nhận bản sao điện tử (quét mã QR hoặc mở đường dẫn):", false)
	for i, l := range d.Links {
		line(regular, "F1", 9, fmt.Sprintf("Bản sao %d: %s", i+1, l), false)
	}
	line(regular, "F1", 9, "Đường dẫn có hiệu lực đến "+local(d.Expires)+".", false)
	const qrSize = 150.0
	if err := drawQR(&cs, d.QR, (pageW-qrSize)/2, y-20-qrSize, qrSize); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}

	// Objects: 1 catalog, 2 pages, 3 page, 4 content, 5–9 regular font, 10–14 bold.
	var b bytes.Buffer
	offsets := make([]int, 15)
	obj := func(n int, body []byte) {
		offsets[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", n)
		b.Write(body)
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj(1, []byte("<< /Type /Catalog /Pages 2 0 R >>"))
	obj(2, []byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"))
	obj(3, []byte(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 9 0 R /F2 14 0 R >> >> /Contents 4 0 R >>", pageW, pageH)))
	obj(4, flateStream("", []byte(cs.String())))
	for i, body := range regular.Bodies(func(i int) string { return fmt.Sprintf("%d 0 R", 5+i) }) {
		obj(5+i, body)
	}
	for i, body := range bold.Bodies(func(i int) string { return fmt.Sprintf("%d 0 R", 10+i) }) {
		obj(10+i, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 15\n0000000000 65535 f \n")
	for _, o := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size 15 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes(), nil
}
