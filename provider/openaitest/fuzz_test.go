package openaitest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// FuzzHandler sends arbitrary bodies to every endpoint and checks that the
// fake never panics and always answers with a JSON body, or with SSE events
// whose data is JSON.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		path, body string
	}{
		{"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"call tool"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}`},
		{"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"\u00e9"}]}],"max_tokens":1,"tool_choice":{"type":"function","function":{"name":"x"}}}`},
		{"/v1/completions", `{"model":"m","prompt":[[1,2],[3]],"stream":true}`},
		{"/v1/embeddings", `{"model":"m","input":["a","b"],"dimensions":3,"encoding_format":"base64"}`},
		{"/v1/responses", `{"model":"m","input":[{"role":"user","content":"x"}],"stream":true,"reasoning":{"summary":"auto"},"tools":[{"type":"function","name":"f"}]}`},
		{"/v1/models/x", ``},
		{"/openai/deployments/d/chat/completions?api-version=1", `{"messages":[{"role":"user","content":"x"}],"stream":true}`},
		{"/v1/chat/completions", `{"model":"m","messages":null}`},
		{"/v1/chat/completions", `{"model":1}`},
		{"/v1/chat/completions", "\xff\xfe"},
	}
	for _, s := range seeds {
		f.Add(s.path, s.body)
	}
	h := openaitest.NewHandler(openaitest.WithHistory(0))
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#") {
			return
		}
		if _, err := url.ParseRequestURI("http://fake" + path); err != nil {
			return
		}
		method := http.MethodPost
		if strings.Contains(path, "/models") {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "http://fake"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Api-Key", "k")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				data, ok := strings.CutPrefix(sc.Text(), "data: ")
				if ok && data != "[DONE]" && !json.Valid([]byte(data)) {
					t.Fatalf("event data is not JSON: %q", data)
				}
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s %s: status %d, body is not JSON: %q", method, path, rec.Code, out)
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, out)
		}
	})
}
