package web_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// TestClientDisconnectMidUpload sends half of a large upload over a raw
// connection, hangs up, and checks that nothing was recorded or left readable.
func TestClientDisconnectMidUpload(t *testing.T) {
	e := newEnv(t, 200<<20)
	u, _ := url.Parse(e.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	const boundary = "b0undary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nQĐ\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nBị ngắt giữa chừng\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
	fmt.Fprintf(conn, "POST /api/v1/documents HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s",
		u.Host, e.token, boundary, 40<<20, head)
	pdf := testpdf.Bytes(testpdf.Options{Size: 40 << 20})
	if _, err := conn.Write(pdf[:20<<20]); err != nil { // more than one multipart part reaches MinIO
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	conn.Close()

	select {
	case got := <-e.finished:
		if !strings.HasPrefix(got, "POST") {
			t.Fatalf("unexpected request %s", got)
		}
	case <-time.After(time.Minute):
		t.Fatal("the upload handler did not return after the client hung up")
	}
	if rows, blobs := e.stored(); rows != 0 || blobs != 0 {
		t.Fatalf("%d rows and %d blobs after an interrupted upload", rows, blobs)
	}
	assertNothingReadable(t, e)
}

// assertNothingReadable checks the whole bucket, temporary keys and every
// version included: no object at all may be readable.
func assertNothingReadable(t *testing.T, e *env) {
	t.Helper()
	client, err := minio.New(e.s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(e.s3.AccessKey, e.s3.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for o := range client.ListObjects(context.Background(), e.s3.Bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !o.IsDeleteMarker {
			t.Errorf("object %s (version %s, %d bytes) is readable", o.Key, o.VersionID, o.Size)
		}
	}
}
