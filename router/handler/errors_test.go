package handler

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

const chatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`

func TestAuth(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithKeys("sk-master", "", "sk-team-1"), WithKeys("sk-team-2")}})
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"no key", nil, http.StatusUnauthorized},
		{"wrong key", []string{"Authorization: Bearer sk-wrong"}, http.StatusUnauthorized},
		{"prefix of a key", []string{"Authorization: Bearer sk-mast"}, http.StatusUnauthorized},
		{"empty bearer", []string{"Authorization: Bearer "}, http.StatusUnauthorized},
		{"basic auth", []string{"Authorization: Basic c2stbWFzdGVyOg=="}, http.StatusUnauthorized},
		{"master key", []string{"Authorization: Bearer sk-master"}, http.StatusOK},
		{"lower-case bearer", []string{"Authorization: bearer sk-team-1"}, http.StatusOK},
		{"second option", []string{"Authorization: Bearer sk-team-2"}, http.StatusOK},
		{"api-key header", []string{"api-key: sk-team-1"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := st.post(t, "/v1/chat/completions", chatBody, tt.header...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized {
				e := decodeError(t, resp)
				if str(e.Error.Code) != "invalid_api_key" {
					t.Errorf("code %s", str(e.Error.Code))
				}
				if strings.Contains(e.Error.Message, "sk-") {
					t.Errorf("message %q echoes a key", e.Error.Message)
				}
			} else {
				readAll(t, resp)
			}
		})
	}
	// Models need a key too; health and metrics do not.
	if resp := st.get(t, "/v1/models"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("models without key: %d", resp.StatusCode)
	}
	for _, p := range []string{"/health", "/health/liveliness", "/health/readiness", "/metrics"} {
		resp := st.get(t, p)
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s without key: %d, want 200", p, resp.StatusCode)
		}
	}
	if n := st.fake.Stats().Requests; n != 4 {
		t.Errorf("upstream saw %d requests, want only the 4 authorized ones", n)
	}
}

func TestRequestErrors(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithMaxBodyBytes(1024), WithAliases("gpt-4")}})
	big := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`
	tests := []struct {
		name      string
		path      string
		body      string
		chunked   bool
		status    int
		code      string
		param     string
		inMessage []string
	}{
		{name: "malformed", path: "/v1/chat/completions", body: `{"model": "gpt-4o", "messages": [}`, status: 400, code: "invalid_json", inMessage: []string{"malformed JSON", "invalid character '}'", "at byte 33"}},
		{name: "truncated", path: "/v1/chat/completions", body: `{"model": "gpt-4o"`, status: 400, code: "invalid_json", inMessage: []string{"malformed JSON"}},
		{name: "empty body", path: "/v1/chat/completions", body: ``, status: 400, code: "invalid_json", inMessage: []string{"empty"}},
		{name: "not an object", path: "/v1/embeddings", body: `["gpt-4o"]`, status: 400, code: "invalid_json", inMessage: []string{"must be a JSON object, got array"}},
		{name: "missing model", path: "/v1/chat/completions", body: `{"messages":[]}`, status: 400, code: "missing_model", param: "model", inMessage: []string{"model"}},
		{name: "model not a string", path: "/v1/chat/completions", body: `{"model":4}`, status: 400, code: "invalid_type", param: "model", inMessage: []string{"expected a string, got number"}},
		{name: "stream not a bool", path: "/chat/completions", body: `{"model":"gpt-4o","stream":"yes"}`, status: 400, code: "invalid_type", param: "stream"},
		{name: "tags not strings", path: "/v1/chat/completions", body: `{"model":"gpt-4o","metadata":{"tags":[1]}}`, status: 400, code: "invalid_type", param: "metadata.tags"},
		{name: "unknown model", path: "/v1/chat/completions", body: `{"model":"gpt-5","messages":[]}`, status: 404, code: "model_not_found", param: "model",
			inMessage: []string{`"gpt-5"`, "gpt-4, gpt-4o, text-embedding-3-small, whisper-1"}},
		{name: "too large", path: "/v1/chat/completions", body: big, status: 413, code: "request_too_large", inMessage: []string{"1 KiB"}},
		{name: "too large chunked", path: "/v1/chat/completions", body: big, chunked: true, status: 413, code: "request_too_large"},
		{name: "unknown path", path: "/v1/nope", body: chatBody, status: 404, code: "unknown_url", inMessage: []string{"POST /v1/nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, st.srv.URL+tt.path, body)
			resp, err := st.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, readAll(t, resp))
			}
			e := decodeError(t, resp)
			if str(e.Error.Code) != tt.code {
				t.Errorf("code %s, want %s (%s)", str(e.Error.Code), tt.code, e.Error.Message)
			}
			if tt.param != "" && str(e.Error.Param) != tt.param {
				t.Errorf("param %s, want %s", str(e.Error.Param), tt.param)
			}
			for _, s := range tt.inMessage {
				if !strings.Contains(e.Error.Message, s) {
					t.Errorf("message %q lacks %q", e.Error.Message, s)
				}
			}
		})
	}
	if n := st.fake.Stats().Requests; n != 0 {
		t.Errorf("upstream saw %d requests, want none", n)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	st := newStack(t, stackConfig{})
	resp := st.get(t, "/v1/chat/completions")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET chat: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	decodeError(t, resp)
	resp = st.post(t, "/v1/models", "{}")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST models: %d", resp.StatusCode)
	}
	decodeError(t, resp)
}

func TestUploadTooLarge(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithMaxUploadBytes(4096)}})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("model", "whisper-1")
	fw, _ := mw.CreateFormFile("file", "a.mp3")
	_, _ = fw.Write(bytes.Repeat([]byte("a"), 10000))
	_ = mw.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(buf.Bytes())
		if chunked {
			body = io.MultiReader(body)
		}
		req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/audio/transcriptions", body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := st.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked=%v: status %d, want 413", chunked, resp.StatusCode)
		}
		if e := decodeError(t, resp); !strings.Contains(e.Error.Message, "4 KiB") {
			t.Errorf("message %q does not state the limit", e.Error.Message)
		}
	}
	// Not multipart at all, and no file.
	resp := st.post(t, "/v1/audio/transcriptions", chatBody)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON to transcriptions: %d, want 400", resp.StatusCode)
	}
	decodeError(t, resp)
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	_ = mw.WriteField("model", "whisper-1")
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/audio/transcriptions", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, _ = st.srv.Client().Do(req)
	if e := decodeError(t, resp); resp.StatusCode != 400 || str(e.Error.Param) != "file" {
		t.Errorf("no file: %d %+v", resp.StatusCode, e)
	}
}

func TestUpstreamRateLimitPassthrough(t *testing.T) {
	st := newStack(t, stackConfig{
		fake: []openaitest.Option{openaitest.WithKey("sk-upstream-a", openaitest.KeyConfig{RPM: 100, TPM: 100000})},
	})
	// A success passes the rate-limit headers on.
	resp := st.post(t, "/v1/chat/completions", chatBody)
	readAll(t, resp)
	if resp.Header.Get("X-Ratelimit-Limit-Requests") != "100" || resp.Header.Get("X-Ratelimit-Remaining-Tokens") == "" {
		t.Errorf("rate-limit headers not passed on: %v", resp.Header)
	}
	if resp.Header.Get(router.HeaderDeployment) != "gpt-4o-a" || resp.Header.Get(router.HeaderModelGroup) != "gpt-4o" {
		t.Errorf("router headers missing: %v", resp.Header)
	}

	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 7 * time.Second, Count: 1})
	resp = st.post(t, "/v1/chat/completions", chatBody)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want the upstream's 429", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "7" {
		t.Errorf("Retry-After %q, want the upstream's 7", ra)
	}
	if resp.Header.Get("X-Ratelimit-Limit-Requests") != "100" {
		t.Errorf("rate-limit headers not passed on with the 429: %v", resp.Header)
	}
	e := decodeError(t, resp)
	if str(e.Error.Code) != "rate_limit_exceeded" || e.Error.Type != "requests" {
		t.Errorf("error %+v, want the upstream's code and type", e.Error)
	}

	// The deployment now cools down: the next call is refused by the
	// router with 429 and the time left.
	resp = st.post(t, "/v1/chat/completions", chatBody)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("cooling down: status %d, want 429", resp.StatusCode)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 7 {
		t.Errorf("cooling down: Retry-After %q, want 1..7", resp.Header.Get("Retry-After"))
	}
	e = decodeError(t, resp)
	if str(e.Error.Code) != "no_deployment_available" || !strings.Contains(e.Error.Message, "cooldown") {
		t.Errorf("cooling down: %+v", e.Error)
	}
	if n := st.fake.Stats().Requests; n != 2 {
		t.Errorf("upstream saw %d requests, want 2", n)
	}

	// Readiness reports the cooldown.
	rd := st.h.Readiness()
	if rd.Status != "degraded" {
		t.Errorf("readiness %q, want degraded (gpt-4o has no deployment left, the other groups do)", rd.Status)
	}
	var found bool
	for _, g := range rd.ModelGroups {
		for _, d := range g.Deployments {
			if d.ID == "gpt-4o-a" {
				found = d.Status == "cooldown" && d.CooldownSeconds >= 1 && d.CooldownUntil != nil
			}
		}
	}
	if !found {
		t.Errorf("readiness does not show gpt-4o-a cooling down: %+v", rd)
	}
}

func TestHeaderOptions(t *testing.T) {
	fakeOpts := []openaitest.Option{openaitest.WithKey("sk-upstream-a", openaitest.KeyConfig{RPM: 100})}
	t.Run("rate-limit headers off, provider headers on", func(t *testing.T) {
		st := newStack(t, stackConfig{fake: fakeOpts, handler: []Option{WithRateLimitHeaders(false), WithProviderHeaders(true)}})
		resp := st.post(t, "/v1/chat/completions", chatBody)
		readAll(t, resp)
		if v := resp.Header.Get("X-Ratelimit-Limit-Requests"); v != "" {
			t.Errorf("rate-limit header sent though off: %q", v)
		}
		if v := resp.Header.Get("llm_provider-x-ratelimit-limit-requests"); v != "100" {
			t.Errorf("llm_provider- copy = %q, want 100", v)
		}
		if v := resp.Header.Get("llm_provider-x-request-id"); v == "" {
			t.Errorf("llm_provider-x-request-id missing: %v", resp.Header)
		}
	})
	t.Run("forwarded headers", func(t *testing.T) {
		st := newStack(t, stackConfig{handler: []Option{WithForwardHeaders("openai-organization")}})
		resp := st.post(t, "/v1/chat/completions", chatBody, "OpenAI-Organization: org-123", "OpenAI-Project: proj-9")
		readAll(t, resp)
		rr, _ := st.fake.LastRequest()
		if rr.Header.Get("OpenAI-Organization") != "org-123" {
			t.Errorf("organization not forwarded: %v", rr.Header)
		}
		if rr.Header.Get("OpenAI-Project") != "" {
			t.Errorf("a header not configured was forwarded: %v", rr.Header)
		}
		if rr.Header.Get("Authorization") != "Bearer sk-upstream-a" {
			t.Errorf("upstream auth %q", rr.Header.Get("Authorization"))
		}
	})
}

// TestBodyPassthrough checks that fields the library does not model reach
// the upstream, and the upstream's body reaches the client, unchanged.
func TestBodyPassthrough(t *testing.T) {
	upstreamBody := []byte(`{"id":"chatcmpl-x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi","x_new_field":{"a":[1,2.50,"é"]}},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"x_top":true}` + "\n")
	st := newStack(t, stackConfig{
		fake: []openaitest.Option{openaitest.WithIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(upstreamBody)
			return true
		})},
		config: func(c *router.Config, _ string) { c.Deployments[0].Tags = []string{"blue"} },
	})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"x_custom":{"nested":[1,2,{"k":"v"}]},"temperature":0.25,"metadata":{"tags":["blue"],"user_id":"u1"}}`
	resp := st.post(t, "/v1/chat/completions", body)
	got := readAll(t, resp)
	if !bytes.Equal(got, upstreamBody) {
		t.Errorf("client got %s\nwant the upstream's bytes %s", got, upstreamBody)
	}
	rr, _ := st.fake.LastRequest()
	for _, want := range []string{`"x_custom":{"nested":[1,2,{"k":"v"}]}`, `"temperature":0.25`, `"metadata":{"user_id":"u1"}`} {
		if !bytes.Contains(rr.Body, []byte(want)) {
			t.Errorf("upstream body %s lacks %s", rr.Body, want)
		}
	}
	if bytes.Contains(rr.Body, []byte("tags")) {
		t.Errorf("metadata.tags reached the upstream: %s", rr.Body)
	}
}

func TestTagRouting(t *testing.T) {
	st := newStack(t, stackConfig{config: func(c *router.Config, url string) {
		c.Deployments[0].Tags = []string{"default"}
		c.Deployments = append(c.Deployments, c.Deployments[0])
		c.Deployments[len(c.Deployments)-1].ID = "gpt-4o-paid"
		c.Deployments[len(c.Deployments)-1].APIKey = "sk-upstream-paid"
		c.Deployments[len(c.Deployments)-1].Tags = []string{"paid"}
	}})
	for _, tt := range []struct {
		body, header, wantKey string
	}{
		{chatBody, "", "sk-upstream-a"},
		{`{"model":"gpt-4o","metadata":{"tags":["paid"]},"messages":[{"role":"user","content":"hi"}]}`, "", "sk-upstream-paid"},
		{`{"metadata":{"tags":["paid"]},"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "", "sk-upstream-paid"},
		{chatBody, "X-Switchyard-Tags: other, paid", "sk-upstream-paid"},
	} {
		var hs []string
		if tt.header != "" {
			hs = append(hs, tt.header)
		}
		resp := st.post(t, "/v1/chat/completions", tt.body, hs...)
		readAll(t, resp)
		rr, _ := st.fake.LastRequest()
		if resp.StatusCode != 200 || rr.Key != tt.wantKey {
			t.Errorf("%s %s: status %d, upstream key %q, want %q", tt.body, tt.header, resp.StatusCode, rr.Key, tt.wantKey)
		}
		if bytes.Contains(rr.Body, []byte("metadata")) {
			t.Errorf("empty metadata reached the upstream: %s", rr.Body)
		}
	}
}

// TestClientDisconnect checks that a client going away cancels the
// upstream call: the fake's hanging request ends.
func TestClientDisconnect(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run("stream="+strconv.FormatBool(stream), func(t *testing.T) {
			var sc stackConfig
			if stream {
				// The first chunk comes at once, the next only after an hour.
				sc.fake = []openaitest.Option{openaitest.WithStreamTiming(0, time.Hour, 3)}
			}
			st := newStack(t, sc)
			body := chatBody
			if stream {
				body = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three"}]}`
			} else {
				st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			errc := make(chan error, 1)
			first := make(chan string, 1)
			go func() {
				resp, err := st.srv.Client().Do(req)
				if err == nil {
					line, _ := bufio.NewReader(resp.Body).ReadString('\n')
					first <- line
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				errc <- err
			}()
			if stream {
				// The first event has reached the client: the upstream
				// stream is open and waiting an hour for its next event.
				if line := <-first; !strings.HasPrefix(line, "data: {") {
					t.Errorf("first line %q, want a data event", line)
				}
			} else {
				waitFor(t, "the upstream call", func() bool { return st.fake.Stats().InFlight == 1 })
			}
			cancel()
			if err := <-errc; err == nil {
				t.Error("the client's request did not fail")
			}
			waitFor(t, "the upstream call to end", func() bool { return st.fake.Stats().InFlight == 0 })
			waitFor(t, "the router's in-flight count to drop", func() bool { return st.rt.Deployment("gpt-4o-a").InFlight() == 0 })
		})
	}
}

// TestStreamErrors checks a failure after the first event: the client
// gets an error event and no [DONE].
func TestStreamErrors(t *testing.T) {
	for _, tt := range []struct {
		path, body, want string
	}{
		{"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d e"}]}`, "data: {\"error\":{"},
		{"/v1/responses", `{"model":"gpt-4o","stream":true,"input":"a b c d e"}`, "event: error\ndata: {\"type\":\"error\""},
	} {
		st := newStack(t, stackConfig{})
		st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamError, AfterChunks: 2})
		resp := st.post(t, tt.path, tt.body)
		got := string(readAll(t, resp))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%s: status %d type %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(got, tt.want) || strings.Contains(got, "[DONE]") {
			t.Errorf("%s stream:\n%s\nwant %q and no [DONE]", tt.path, got, tt.want)
		}
	}
}

func TestStreamFraming(t *testing.T) {
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithStreamTiming(0, 0, 3)}})
	resp := st.post(t, "/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x y z"}]}`)
	got := string(readAll(t, resp))
	frames := strings.Split(strings.TrimSuffix(got, "\n\n"), "\n\n")
	if len(frames) < 4 || frames[len(frames)-1] != "data: [DONE]" {
		t.Fatalf("frames %q, want data frames ending with [DONE]", frames)
	}
	for _, f := range frames {
		if !strings.HasPrefix(f, "data: ") || strings.Contains(f, "\n") {
			t.Errorf("frame %q is not one data line", f)
		}
	}
	if resp.Header.Get(router.HeaderDeployment) != "gpt-4o-a" {
		t.Errorf("stream lacks router headers: %v", resp.Header)
	}
}

func TestAzurePath(t *testing.T) {
	st := newStack(t, stackConfig{})
	resp := st.post(t, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", `{"messages":[{"role":"user","content":"az"}]}`)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("echo: az")) {
		t.Fatalf("azure path: %d %s", resp.StatusCode, body)
	}
}
