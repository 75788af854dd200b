package openai

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

const chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",` +
	`"system_fingerprint":"fp_abc","choices":[{"index":0,"message":{"role":"assistant","content":"Paris",` +
	`"reasoning_content":"The user asks...","provider_specific_fields":{"x":1}},"finish_reason":"stop","logprobs":null}],` +
	`"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4},` +
	`"completion_tokens_details":{"reasoning_tokens":2}},"service_tier":"default","x_unknown":[1,{"a":null}]}`

// TestChatRoundTrip proves the pass-through promise: the upstream receives
// the caller's bytes with only "model" changed, and the caller receives the
// upstream's bytes, headers and parsed usage.
func TestChatRoundTrip(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		answer(w, 200, chatAnswer, "X-Request-Id", "req_1", "X-Ratelimit-Remaining-Requests", "99", "Openai-Processing-Ms", "42")
	})
	c := up.client(t, Config{Model: "openai/gpt-4o-2024-08-06", APIKey: "sk-test"})
	in := `{"model":"gpt-4o-group","messages":[{"role":"user","content":"Capital of France?"}],` +
		`"temperature":0.2,"future_field":{"nested":[1,2,3]},"reasoning_effort":"low","metadata":{"model":"keep"}}`
	resp, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o-group", Body: []byte(in)})
	if err != nil {
		t.Fatal(err)
	}
	got := up.last(t)
	want := strings.Replace(in, `"gpt-4o-group"`, `"gpt-4o-2024-08-06"`, 1)
	if string(got.Body) != want {
		t.Errorf("upstream body\n got  %s\n want %s", got.Body, want)
	}
	if got.Method != http.MethodPost || got.Path != "/v1/chat/completions" {
		t.Errorf("upstream saw %s %s", got.Method, got.Path)
	}
	if string(resp.Body) != chatAnswer {
		t.Errorf("answer body changed:\n got  %s\n want %s", resp.Body, chatAnswer)
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "req_1" ||
		resp.Header.Get("X-Ratelimit-Remaining-Requests") != "99" || resp.Header.Get("Openai-Processing-Ms") != "42" {
		t.Errorf("status %d, header %v", resp.StatusCode, resp.Header)
	}
	wantUsage := provider.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17, CachedTokens: 4, ReasoningTokens: 2}
	if resp.Usage != wantUsage {
		t.Errorf("usage %+v, want %+v", resp.Usage, wantUsage)
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		endpoint provider.Endpoint
		body     string
		path     string
		answer   string
		ctype    string
		usage    provider.Usage
	}{
		{"completions", provider.EndpointCompletions, `{"model":"m","prompt":"Say hi"}`, "/v1/completions",
			`{"object":"text_completion","choices":[{"text":"hi","index":0}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}`,
			"", provider.Usage{PromptTokens: 2, CompletionTokens: 1, TotalTokens: 3}},
		{"embeddings", provider.EndpointEmbeddings, `{"model":"m","input":["a","b"],"encoding_format":"float"}`, "/v1/embeddings",
			`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],"usage":{"prompt_tokens":2,"total_tokens":2}}`,
			"", provider.Usage{PromptTokens: 2, TotalTokens: 2}},
		{"responses", provider.EndpointResponses, `{"model":"m","input":"hi","reasoning":{"effort":"low"}}`, "/v1/responses",
			`{"object":"response","id":"resp_1","status":"completed","error":null,"output":[],"usage":{"input_tokens":9,"output_tokens":30,` +
				`"total_tokens":39,"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":20}}}`,
			"", provider.Usage{PromptTokens: 9, CompletionTokens: 30, TotalTokens: 39, CachedTokens: 1, ReasoningTokens: 20}},
		{"usage without total", provider.EndpointChat, `{"model":"m","messages":[]}`, "/v1/chat/completions",
			`{"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3}}`, "", provider.Usage{PromptTokens: 2, CompletionTokens: 3, TotalTokens: 5}},
		{"no usage", provider.EndpointChat, `{"model":"m","messages":[]}`, "/v1/chat/completions", `{"choices":[],"usage":null}`, "", provider.Usage{}},
		{"malformed usage ignored", provider.EndpointChat, `{"model":"m","messages":[]}`, "/v1/chat/completions", `{"usage":{"prompt_tokens":"x"}}`, "", provider.Usage{}},
		{"json with charset", provider.EndpointChat, `{"model":"m","messages":[]}`, "/v1/chat/completions", `{"usage":{"prompt_tokens":1}}`,
			"application/json; charset=utf-8", provider.Usage{PromptTokens: 1, TotalTokens: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				answer(w, 200, tt.answer, "Content-Type", tt.ctype)
			})
			c := up.client(t, Config{Model: "openai/up-model"})
			resp, err := c.Do(context.Background(), &provider.Request{Endpoint: tt.endpoint, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			got := up.last(t)
			if got.Path != tt.path {
				t.Errorf("path %s, want %s", got.Path, tt.path)
			}
			if want := strings.Replace(tt.body, `"m"`, `"up-model"`, 1); string(got.Body) != want {
				t.Errorf("upstream body %s, want %s", got.Body, want)
			}
			if string(resp.Body) != tt.answer || resp.Usage != tt.usage {
				t.Errorf("answer %s usage %+v, want usage %+v", resp.Body, resp.Usage, tt.usage)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{}`) })
	c := up.client(t, Config{
		Model: "gpt-4o", APIKey: "sk-deployment", Organization: "org-1", Project: "proj-1",
		ExtraHeaders: http.Header{"x-extra": {"deployment"}, "X-Keep": {"k"}},
	})
	req := &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[]}`),
		Header: http.Header{"X-Extra": {"call"}, "openai-project": {"proj-call"}, "X-Call": {"c"}}}
	if _, err := c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	h := up.last(t).Header
	for k, want := range map[string]string{
		"Authorization": "Bearer sk-deployment", "Openai-Organization": "org-1", "Openai-Project": "proj-call",
		"X-Extra": "call", "X-Keep": "k", "X-Call": "c", "Content-Type": "application/json",
		"User-Agent": DefaultUserAgent, "Api-Key": "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(h.Values("X-Extra")) != 1 {
		t.Errorf("X-Extra sent twice: %v", h.Values("X-Extra"))
	}
	// The per-call header did not leak into the next call.
	if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if h := up.last(t).Header; h.Get("X-Extra") != "deployment" || h.Get("Openai-Project") != "proj-1" || h.Get("X-Call") != "" {
		t.Errorf("second call headers %v", h)
	}
}

func TestUserAgent(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{}`) })
	c := up.client(t, Config{Model: "gpt-4o", UserAgent: "my-app/2"})
	if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if ua := up.last(t).Header.Get("User-Agent"); ua != "my-app/2" {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestAzure(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, chatAnswer) })
	c := up.client(t, Config{Model: "azure/gpt4o-east", BaseURL: up.URL, APIVersion: "2024-10-21", APIKey: "azure-key-123"})
	if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"model":"group","messages":[]}`)}); err != nil {
		t.Fatal(err)
	}
	got := up.last(t)
	if got.Path != "/openai/deployments/gpt4o-east/chat/completions" || got.Query != "api-version=2024-10-21" {
		t.Errorf("Azure URL %s?%s", got.Path, got.Query)
	}
	if got.Header.Get("Api-Key") != "azure-key-123" || got.Header.Get("Authorization") != "" {
		t.Errorf("auth headers: api-key %q, authorization %q", got.Header.Get("Api-Key"), got.Header.Get("Authorization"))
	}
	if string(got.Body) != `{"model":"gpt4o-east","messages":[]}` {
		t.Errorf("body %s", got.Body)
	}
}

func TestFineTunedModelUntouched(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{}`) })
	const ft = "ft:gpt-4o-2024-05-13:my-org::9abcDEF"
	for _, model := range []string{ft, "openai/" + ft} {
		c := up.client(t, Config{Model: model})
		if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"model":"x"}`)}); err != nil {
			t.Fatal(err)
		}
		if got := string(up.last(t).Body); got != `{"model":"`+ft+`"}` {
			t.Errorf("%s: body %s", model, got)
		}
	}
}

func TestPrefixedModelStripped(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{}`) })
	c := up.client(t, Config{Model: "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct"})
	if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"model":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := string(up.last(t).Body); got != `{"model":"meta-llama/Llama-3.1-8B-Instruct"}` {
		t.Errorf("body %s", got)
	}
}

func TestDefaultClientAndEnvBaseURL(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{"ok":true}`) })
	t.Setenv("OPENAI_BASE_URL", up.URL+"/proxy/v1")
	c, err := New(Config{Model: "gpt-4o"}) // shared default http.Client, base URL from the environment
	if err != nil {
		t.Fatal(err)
	}
	defer sharedClient().CloseIdleConnections()
	if _, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if p := up.last(t).Path; p != "/proxy/v1/chat/completions" {
		t.Errorf("path %s", p)
	}
	tr, ok := sharedClient().Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 100 {
		t.Errorf("shared transport keeps too few idle connections per host: %+v", tr)
	}
}

func TestCustomHTTPClientTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, 200, `{"ok":1}`) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()
	tr := NewTransport()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a test server's self-signed certificate
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	c, err := New(Config{Model: "gpt-4o", BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)})
	if err != nil || string(resp.Body) != `{"ok":1}` {
		t.Fatalf("with InsecureSkipVerify: %v", err)
	}
	// Without it the self-signed certificate is refused: a connection error.
	strict := NewTransport()
	defer strict.CloseIdleConnections()
	c, _ = New(Config{Model: "gpt-4o", BaseURL: srv.URL, HTTPClient: &http.Client{Transport: strict}})
	_, err = c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)})
	if provider.ClassOf(err) != provider.ClassConnection {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestTranscriptionMultipart(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), "srt") {
			answer(w, 200, "1\n00:00:00,000 --> 00:00:01,000\nhello\n", "Content-Type", "text/plain; charset=utf-8")
			return
		}
		answer(w, 200, `{"text":"hello","usage":{"type":"tokens","input_tokens":7,"output_tokens":2,"total_tokens":9}}`)
	})
	c := up.client(t, Config{Model: "openai/whisper-1", DeploymentID: "w1"})
	audio := bytes.Repeat([]byte{0, 1, 2, '-', '-', 0xff}, 5000)
	req := &provider.Request{Endpoint: provider.EndpointTranscriptions, Form: &provider.Form{
		Fields:   []provider.FormField{{Name: "language", Value: "fr"}, {Name: "model", Value: "ignored"}, {Name: "prompt", Value: `say "bonjour"`}, {Name: "temperature", Value: "0"}},
		FileName: `speech "1".mp3`, FileContentType: "audio/mpeg", File: audio,
	}}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != (provider.Usage{PromptTokens: 7, CompletionTokens: 2, TotalTokens: 9}) {
		t.Errorf("usage %+v", resp.Usage)
	}
	first := up.last(t)
	if first.Path != "/v1/audio/transcriptions" {
		t.Errorf("path %s", first.Path)
	}
	// Parse what the upstream got: fields in order, then model, then file.
	mt, params, err := mime.ParseMediaType(first.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q", first.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(first.Body), params["boundary"])
	var names []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		names = append(names, p.FormName())
		switch p.FormName() {
		case "model":
			if string(data) != "whisper-1" {
				t.Errorf("model %q", data)
			}
		case "prompt":
			if string(data) != `say "bonjour"` {
				t.Errorf("prompt %q", data)
			}
		case "file":
			if !bytes.Equal(data, audio) || p.FileName() != `speech "1".mp3` || p.Header.Get("Content-Type") != "audio/mpeg" {
				t.Errorf("file part: %d bytes, name %q, type %q", len(data), p.FileName(), p.Header.Get("Content-Type"))
			}
		}
	}
	if got := strings.Join(names, ","); got != "language,prompt,temperature,model,file" {
		t.Errorf("parts %s", got)
	}
	// A second Do (a retry) sends exactly the same bytes.
	if _, err := c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if second := up.last(t); !bytes.Equal(second.Body, first.Body) || second.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
		t.Error("the second send of the same form differs")
	}
	// A text response_format comes back raw.
	req.Form.Fields = []provider.FormField{{Name: "response_format", Value: "srt"}}
	resp, err = c.Do(context.Background(), req)
	if err != nil || !strings.HasPrefix(string(resp.Body), "1\n00:00:00") {
		t.Fatalf("srt answer %q, %v", resp.Body, err)
	}
}

func TestFormBoundaryAvoidsContent(t *testing.T) {
	f := &provider.Form{FileName: "a.wav"}
	b := formBoundary(f, "m")
	f.File = []byte("xx" + b + "yy") // a file that contains the boundary it would get
	body, ct := formBody(f, "m")
	_, params, _ := mime.ParseMediaType(ct)
	if bytes.Contains(f.File, []byte(params["boundary"])) {
		t.Fatal("boundary occurs in the file")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	mr.NextPart() // model
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := io.ReadAll(p); !bytes.Equal(data, f.File) {
		t.Errorf("file %q", data)
	}
}

func TestRequestValidation(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answer(w, 200, `{}`) })
	c := up.client(t, Config{Model: "gpt-4o", DeploymentID: "dep-1"})
	tests := []struct {
		name string
		req  *provider.Request
		do   bool
	}{
		{"nil", nil, true},
		{"unknown endpoint", &provider.Request{Endpoint: 99, Body: []byte(`{}`)}, true},
		{"empty body", &provider.Request{Endpoint: provider.EndpointChat}, true},
		{"not an object", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`[1]`)}, true},
		{"truncated JSON", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[`)}, true},
		{"stream in body, Do", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"stream":true}`)}, true},
		{"Stream flag, Do", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`), Stream: true}, true},
		{"no Stream flag, Stream", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)}, false},
		{"transcription without form", &provider.Request{Endpoint: provider.EndpointTranscriptions}, true},
		{"embeddings stream", &provider.Request{Endpoint: provider.EndpointEmbeddings, Body: []byte(`{}`), Stream: true}, false},
	}
	for _, tt := range tests {
		var err error
		if tt.do {
			_, err = c.Do(context.Background(), tt.req)
		} else {
			_, err = c.Stream(context.Background(), tt.req)
		}
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Class != provider.ClassBadRequest || pe.Deployment != "dep-1" {
			t.Errorf("%s: error %v, want a ClassBadRequest *provider.Error naming the deployment", tt.name, err)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("%d invalid requests reached the upstream", n)
	}
}

// TestErrorClasses drives every error class through a real HTTP exchange.
func TestErrorClasses(t *testing.T) {
	oa := func(typ, code, msg string) string {
		return fmt.Sprintf(`{"error":{"message":%q,"type":%q,"param":null,"code":%q}}`, msg, typ, code)
	}
	tests := []struct {
		status int
		body   string
		want   error
	}{
		{429, oa("requests", "rate_limit_exceeded", "Rate limit reached"), provider.ErrRateLimited},
		{429, oa("insufficient_quota", "insufficient_quota", "You exceeded your current quota"), provider.ErrQuotaExhausted},
		{400, oa("invalid_request_error", "context_length_exceeded", "This model's maximum context length is 128000 tokens"), provider.ErrContextWindow},
		{400, oa("invalid_request_error", "content_policy_violation", "rejected"), provider.ErrContentPolicy},
		{400, `{"error":{"code":"content_filter","message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}}`, provider.ErrContentPolicy},
		{401, oa("invalid_request_error", "invalid_api_key", "Incorrect API key provided"), provider.ErrAuth},
		{403, oa("permission_denied", "unsupported_country_region_territory", "Country not supported"), provider.ErrAuth},
		{404, oa("invalid_request_error", "model_not_found", "The model does not exist"), provider.ErrNotFound},
		{408, ``, provider.ErrTimeout},
		{409, oa("", "", "Conflict"), provider.ErrConflict},
		{422, `{"detail":[{"msg":"field required"}]}`, provider.ErrBadRequest},
		{400, oa("invalid_request_error", "", "Invalid value for 'temperature'"), provider.ErrBadRequest},
		{500, oa("server_error", "", "The server had an error"), provider.ErrServer},
		{502, `<html>bad gateway</html>`, provider.ErrServer},
		{503, `{"error":{"message":"overloaded","code":503}}`, provider.ErrServer},
		{200, oa("server_error", "", "error inside a 200"), provider.ErrServer},
		{200, `<!doctype html><p>captive portal`, provider.ErrConnection},
		{200, `{"choices":[{"message":`, provider.ErrConnection},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %.30s", tt.status, tt.body), func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				answer(w, tt.status, tt.body, "X-Request-Id", "req_9", "Retry-After", "3")
			})
			c := up.client(t, Config{Model: "gpt-4o", DeploymentID: "dep-7"})
			resp, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)})
			if resp != nil {
				t.Fatalf("got a response with an error: %v", err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want errors.Is %v", err, tt.want)
			}
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatal("not a *provider.Error")
			}
			if pe.StatusCode != tt.status || pe.Deployment != "dep-7" || pe.RequestID != "req_9" || pe.Header.Get("Retry-After") != "3" {
				t.Errorf("status %d deployment %q request id %q header %v", pe.StatusCode, pe.Deployment, pe.RequestID, pe.Header)
			}
			if tt.status >= 400 && pe.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter %v", pe.RetryAfter)
			}
			if pe.Message == "" || len(pe.Body) == 0 && tt.body != "" {
				t.Errorf("message %q body %q", pe.Message, pe.Body)
			}
		})
	}
}

func TestRetryAfterDateUsesClock(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		answer(w, 429, `{"error":{"code":"rate_limit_exceeded","message":"slow"}}`, "Retry-After", now.Add(42*time.Second).Format(http.TimeFormat))
	})
	c := up.client(t, Config{Model: "gpt-4o", Now: func() time.Time { return now }})
	_, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.RetryAfter != 42*time.Second {
		t.Fatalf("error %v, RetryAfter %v; want 42s from the injected clock", err, pe.RetryAfter)
	}
}

func TestTransportFailures(t *testing.T) {
	release := make(chan struct{})
	hang := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	req := func() *provider.Request {
		return &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{}`)}
	}

	t.Run("connection refused", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		c, _ := New(Config{Model: "gpt-4o", BaseURL: url, HTTPClient: &http.Client{}})
		_, err := c.Do(context.Background(), req())
		if !errors.Is(err, provider.ErrConnection) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("config timeout", func(t *testing.T) {
		c := hang.client(t, Config{Model: "gpt-4o", Timeout: 20 * time.Millisecond})
		_, err := c.Do(context.Background(), req())
		if !errors.Is(err, provider.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("per-call timeout wins", func(t *testing.T) {
		c := hang.client(t, Config{Model: "gpt-4o", Timeout: time.Hour})
		r := req()
		r.Timeout = 20 * time.Millisecond
		_, err := c.Do(context.Background(), r)
		if !errors.Is(err, provider.ErrTimeout) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		c := hang.client(t, Config{Model: "gpt-4o"})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, req())
		if !errors.Is(err, provider.ErrTimeout) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("caller cancel", func(t *testing.T) {
		c := hang.client(t, Config{Model: "gpt-4o"})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for len(hang.requests()) == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := c.Do(ctx, req())
		if !errors.Is(err, provider.ErrCanceled) || !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("body cut short", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"choices":[`)
			panic(http.ErrAbortHandler) // drop the connection mid-body
		})
		c := up.client(t, Config{Model: "gpt-4o"})
		_, err := c.Do(context.Background(), req())
		if !errors.Is(err, provider.ErrConnection) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("answer too large", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			answer(w, 200, `{"data":"`+strings.Repeat("x", 4096)+`"}`)
		})
		c := up.client(t, Config{Model: "gpt-4o", MaxResponseBytes: 1024})
		_, err := c.Do(context.Background(), req())
		if !errors.Is(err, provider.ErrConnection) {
			t.Fatalf("error %v", err)
		}
	})
}
