package openaitest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

const benchBody = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France?"}],"max_tokens":64}`

// benchClient returns a client that keeps enough idle connections for
// parallel benchmarks.
func benchClient(srv *openaitest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr}
}

func benchDo(b *testing.B, c *http.Client, url, body string) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-bench")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkChat measures one non-streaming chat completion from an
// http.Client through loopback to the fake and back.
func BenchmarkChat(b *testing.B) {
	srv := openaitest.NewServer(openaitest.WithKey("sk-bench", openaitest.KeyConfig{RPM: 1 << 30, TPM: 1 << 40}))
	defer srv.Close()
	c := benchClient(srv)
	defer c.CloseIdleConnections()
	url := srv.URL + "/chat/completions"
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, c, url, benchBody)
	}
}

// BenchmarkChatParallel is BenchmarkChat from GOMAXPROCS goroutines: the
// fake's throughput.
func BenchmarkChatParallel(b *testing.B) {
	srv := openaitest.NewServer(openaitest.WithKey("sk-bench", openaitest.KeyConfig{RPM: 1 << 30, TPM: 1 << 40}))
	defer srv.Close()
	c := benchClient(srv)
	defer c.CloseIdleConnections()
	url := srv.URL + "/chat/completions"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchDo(b, c, url, benchBody)
		}
	})
}

// BenchmarkChatStream measures one streamed chat completion, read whole.
func BenchmarkChatStream(b *testing.B) {
	srv := openaitest.NewServer()
	defer srv.Close()
	c := benchClient(srv)
	defer c.CloseIdleConnections()
	url := srv.URL + "/chat/completions"
	body := strings.Replace(benchBody, `"max_tokens":64`, `"stream":true,"stream_options":{"include_usage":true}`, 1)
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, c, url, body)
	}
}

// BenchmarkHandlerChat measures the handler alone, without the network.
func BenchmarkHandlerChat(b *testing.B) {
	h := openaitest.NewHandler(openaitest.WithKey("sk-bench", openaitest.KeyConfig{RPM: 1 << 30, TPM: 1 << 40}))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(benchBody))
		req.Header.Set("Authorization", "Bearer sk-bench")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
