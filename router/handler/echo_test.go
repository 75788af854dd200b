package handler

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestLongNamesNotEchoed checks that a 100 KB model name (or path, or tag)
// is cut in every answer and log line that names it, on every path that
// can echo it: an unknown model in the body, streaming or not, in an Azure
// path or the models endpoint, an unknown path, a tag no deployment has.
func TestLongNamesNotEchoed(t *testing.T) {
	big := strings.Repeat("m", 100<<10)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := newStack(t, stackConfig{handler: []Option{WithLogger(log)}})
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"model in the body", "POST", "/v1/chat/completions", `{"model":"` + big + `","messages":[]}`, http.StatusNotFound},
		{"model in a stream", "POST", "/v1/chat/completions", `{"model":"` + big + `","stream":true,"messages":[]}`, http.StatusNotFound},
		{"model in an Azure path", "POST", "/openai/deployments/" + big + "/chat/completions", `{"messages":[]}`, http.StatusNotFound},
		{"unknown endpoint in an Azure path", "POST", "/openai/deployments/gpt-4o/" + big, `{}`, http.StatusNotFound},
		{"models endpoint", "GET", "/v1/models/" + big, "", http.StatusNotFound},
		{"unknown path", "GET", "/" + big, "", http.StatusNotFound},
		{"method on a long path", "PUT", "/openai/deployments/" + big, "", http.StatusNotFound},
		{"tag", "POST", "/v1/chat/completions", `{"model":"gpt-4o","metadata":{"tags":["` + big + `"]},"messages":[]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.String())
			req, _ := http.NewRequest(tt.method, st.srv.URL+tt.path, strings.NewReader(tt.body))
			resp, err := st.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, tt.status, body)
			}
			if len(body) > 2048 {
				t.Errorf("answer of %d bytes echoes the name: %.300s…", len(body), body)
			}
			if n := len(logs.String()) - before; n > 2048 {
				t.Errorf("log grew by %d bytes: %.300s…", n, logs.String()[before:])
			}
		})
	}
	resp := st.get(t, "/metrics")
	if m := readAll(t, resp); strings.Contains(string(m), "mmmmmmmmmm") {
		t.Error("a metric label holds the client's name")
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
