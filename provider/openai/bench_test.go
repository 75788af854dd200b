package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// benchServer answers every request with chatAnswer, like a fast upstream.
func benchServer(b *testing.B) *httptest.Server {
	answerBytes := []byte(chatAnswer)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(answerBytes))}
		h["X-Request-Id"] = []string{"req_1"}
		_, _ = w.Write(answerBytes)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkChat measures a whole non-streaming chat call against an
// in-process server. The "net/http" case sends the same bytes with a bare
// http.Client, so the difference is what this package adds (model
// rewrite, headers, usage parsing, error checks). Allocations include the
// server's.
func BenchmarkChat(b *testing.B) {
	srv := benchServer(b)
	tr := NewTransport()
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	c, err := New(Config{Model: "openai/gpt-4o-2024-08-06", APIKey: "sk-bench", BaseURL: srv.URL + "/v1", HTTPClient: hc})
	if err != nil {
		b.Fatal(err)
	}
	req := &provider.Request{Endpoint: provider.EndpointChat, Body: benchChatBody}
	ctx := context.Background()

	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Do(ctx, req)
			if err != nil || resp.Usage.TotalTokens != 17 {
				b.Fatal(err)
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", bytes.NewReader(benchChatBody))
			hr.Header.Set("Authorization", "Bearer sk-bench")
			hr.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(hr)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("client-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Do(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkStream measures a 20-chunk chat stream read to its end.
func BenchmarkStream(b *testing.B) {
	var frames bytes.Buffer
	for range 20 {
		frames.WriteString(chunk("token"))
	}
	frames.WriteString(usageChunk + "data: [DONE]\n\n")
	body := frames.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	tr := NewTransport()
	b.Cleanup(tr.CloseIdleConnections)
	c, err := New(Config{Model: "gpt-4o", BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		b.Fatal(err)
	}
	req := &provider.Request{Endpoint: provider.EndpointChat, Body: benchChatBody, Stream: true}
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Stream(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for s.Next() {
			n++
		}
		if s.Err() != nil || n != 21 {
			b.Fatal(n, s.Err())
		}
		s.Close()
	}
}
