package serve

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// BenchmarkUpload streams a 256 MiB file through the API: receive, hash
// and write to disk.
func BenchmarkUpload(b *testing.B) {
	h := start(b, Config{MaxUpload: 1 << 30, Analyzer: idleAnalyzer{}})
	const size = 256 << 20
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for b.Loop() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			w, _ := mw.CreateFormFile("file", "capture.pcap")
			for range size / len(chunk) {
				w.Write(chunk)
			}
			pw.CloseWithError(mw.Close())
		}()
		resp, err := http.Post(h.srv.URL+"/api/analyses", mw.FormDataContentType(), pr)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("upload: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	b.SetBytes(size)
}

// idleAnalyzer waits for the end of the service: the benchmark measures
// the uploads alone.
type idleAnalyzer struct{}

func (idleAnalyzer) Analyze(ctx context.Context, _ string, _ []string, _ Options, _ func(Progress)) (Reports, error) {
	<-ctx.Done()
	return Reports{}, ctx.Err()
}
