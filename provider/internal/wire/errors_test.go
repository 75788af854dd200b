package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

func TestParseErrorClass(t *testing.T) {
	oa := func(typ, code, msg string) string {
		return fmt.Sprintf(`{"error":{"message":%q,"type":%q,"param":null,"code":%q}}`, msg, typ, code)
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   provider.Class
		target error
	}{
		{"rate limit", 429, oa("requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o"), provider.ClassRateLimited, provider.ErrRateLimited},
		{"quota by code", 429, oa("insufficient_quota", "insufficient_quota", "You exceeded your current quota"), provider.ClassQuotaExhausted, provider.ErrQuotaExhausted},
		{"quota by type", 429, oa("insufficient_quota", "", "quota"), provider.ClassQuotaExhausted, provider.ErrQuotaExhausted},
		{"429 without body", 429, "", provider.ClassRateLimited, provider.ErrRateLimited},
		{"context by code", 400, oa("invalid_request_error", "context_length_exceeded", "too long"), provider.ClassContextWindow, provider.ErrContextWindow},
		{"context by message", 400, oa("invalid_request_error", "", "This model's maximum context length is 8192 tokens."), provider.ClassContextWindow, provider.ErrContextWindow},
		{"context string too long", 400, oa("invalid_request_error", "", "Invalid 'messages[0].content': string too long."), provider.ClassContextWindow, provider.ErrContextWindow},
		{"context too many tokens (vLLM 422)", 422, `{"detail":"Too many tokens in prompt"}`, provider.ClassContextWindow, provider.ErrContextWindow},
		{"content policy code", 400, oa("invalid_request_error", "content_policy_violation", "Your request was rejected"), provider.ClassContentPolicy, provider.ErrContentPolicy},
		{"azure content filter", 400, oa("", "content_filter", "The response was filtered"), provider.ClassContentPolicy, provider.ErrContentPolicy},
		{"azure content message", 400, `{"error":{"message":"The prompt triggered Azure OpenAI's content management policy.","code":"ResponsibleAIPolicyViolation"}}`, provider.ClassContentPolicy, provider.ErrContentPolicy},
		{"auth 401", 401, oa("invalid_request_error", "invalid_api_key", "Incorrect API key provided"), provider.ClassAuth, provider.ErrAuth},
		{"auth 403", 403, oa("permission_denied", "", "Country not supported"), provider.ClassAuth, provider.ErrAuth},
		{"not found", 404, oa("invalid_request_error", "model_not_found", "The model does not exist"), provider.ClassNotFound, provider.ErrNotFound},
		{"request timeout", 408, "", provider.ClassTimeout, provider.ErrTimeout},
		{"conflict", 409, oa("", "", "conflict"), provider.ClassConflict, provider.ErrConflict},
		{"other 4xx", 400, oa("invalid_request_error", "", "'messages' is required"), provider.ClassBadRequest, provider.ErrBadRequest},
		{"413", 413, "request entity too large", provider.ClassBadRequest, provider.ErrBadRequest},
		{"500", 500, oa("server_error", "", "The server had an error"), provider.ClassServer, provider.ErrServer},
		{"502 html", 502, "<html><body>Bad Gateway</body></html>", provider.ClassServer, provider.ErrServer},
		{"503", 503, `{"error":"overloaded"}`, provider.ClassServer, provider.ErrServer},
		{"stream frame rate limit", 0, oa("", "rate_limit_exceeded", "slow down"), provider.ClassRateLimited, provider.ErrRateLimited},
		{"stream frame numeric code", 200, `{"error":{"message":"Too many requests","code":429}}`, provider.ClassRateLimited, provider.ErrRateLimited},
		{"stream frame server", 200, oa("server_error", "", "boom"), provider.ClassServer, provider.ErrServer},
		{"stream frame context", 0, oa("invalid_request_error", "context_length_exceeded", "long"), provider.ClassContextWindow, provider.ErrContextWindow},
		{"responses error event", 0, `{"type":"error","code":"insufficient_quota","message":"quota","param":null}`, provider.ClassQuotaExhausted, provider.ErrQuotaExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseError(tt.status, nil, []byte(tt.body), time.Now())
			if e.Class != tt.want {
				t.Fatalf("class %v, want %v (%v)", e.Class, tt.want, e)
			}
			var err error = fmt.Errorf("wrapped: %w", e)
			if !errors.Is(err, tt.target) {
				t.Errorf("errors.Is(%v) = false", tt.target)
			}
			var pe *provider.Error
			if !errors.As(err, &pe) || pe != e {
				t.Error("errors.As did not find the *Error")
			}
			if e.StatusCode != tt.status {
				t.Errorf("StatusCode %d, want %d", e.StatusCode, tt.status)
			}
			if e.Message == "" {
				t.Error("empty Message")
			}
		})
	}
}

func TestParseErrorFields(t *testing.T) {
	h := http.Header{}
	h.Set("X-Request-Id", "req_123")
	h.Set("Retry-After-Ms", "1500")
	h.Set("Retry-After", "20")
	h.Set("X-Should-Retry", "false")
	body := `{"error":{"message":"Rate limit reached","type":"tokens","param":"messages","code":"rate_limit_exceeded","extra":1}}`
	e := ParseError(429, h, []byte(body), time.Now())
	want := provider.Error{
		Class: provider.ClassRateLimited, StatusCode: 429, Type: "tokens", Code: "rate_limit_exceeded",
		Message: "Rate limit reached", Param: "messages", RequestID: "req_123",
		RetryAfter: 1500 * time.Millisecond, ShouldRetry: -1,
	}
	if e.Class != want.Class || e.Type != want.Type || e.Code != want.Code || e.Message != want.Message ||
		e.Param != want.Param || e.RequestID != want.RequestID || e.RetryAfter != want.RetryAfter ||
		e.ShouldRetry != want.ShouldRetry || string(e.Body) != body {
		t.Fatalf("got %+v", e)
	}
	if e.RetryScope() != provider.RetryNever {
		t.Error("x-should-retry: false must make the error permanent")
	}
	if !strings.Contains(e.Error(), "rate_limit_exceeded") || !strings.Contains(e.Error(), "429") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestParseErrorRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		h    map[string]string
		want time.Duration
	}{
		{map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second},
		{map[string]string{"Retry-After-Ms": "250.5", "Retry-After": "9"}, 250500 * time.Microsecond},
		{map[string]string{"Retry-After": "soon"}, 0},
		{nil, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		if got := ParseError(429, h, nil, now).RetryAfter; got != tt.want {
			t.Errorf("%v: RetryAfter %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestParseErrorShapes(t *testing.T) {
	tests := []struct {
		name, body, msg, code, typ string
		syntaxErr                  bool
	}{
		{"openai", `{"error":{"message":"m","type":"t","code":"c"}}`, "m", "c", "t", false},
		{"string error", `{"error":"plain words"}`, "plain words", "", "", false},
		{"fastapi detail", `{"detail":"Not Found"}`, "Not Found", "", "", false},
		{"detail list", `{"detail":[{"loc":["body"],"msg":"field required"}]}`, `[{"loc":["body"],"msg":"field required"}]`, "", "", false},
		{"top level", `{"message":"m2","type":"t2","code":"c2"}`, "m2", "c2", "t2", false},
		{"numeric code", `{"error":{"message":"m","code":500}}`, "m", "500", "", false},
		{"no message", `{"error":{"code":"x"}}`, `{"error":{"code":"x"}}`, "x", "", false},
		{"truncated", `{"error":{"message":"cut`, `{"error":{"message":"cut`, "", "", true},
		{"html", "<html>Bad Gateway</html>", "<html>Bad Gateway</html>", "", "", true},
		{"empty", "", "Bad Request", "", "", false},
		{"json array", `[1,2]`, `[1,2]`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseError(400, nil, []byte(tt.body), time.Now())
			if e.Message != tt.msg || e.Code != tt.code || e.Type != tt.typ {
				t.Errorf("message %q code %q type %q, want %q %q %q", e.Message, e.Code, e.Type, tt.msg, tt.code, tt.typ)
			}
			var se *json.SyntaxError
			var ute *json.UnmarshalTypeError
			gotSyntax := errors.As(e, &se) || errors.As(e, &ute)
			if gotSyntax != tt.syntaxErr {
				t.Errorf("syntax error in chain = %v, want %v (Err %v)", gotSyntax, tt.syntaxErr, e.Err)
			}
		})
	}
}

func TestParseErrorLongBody(t *testing.T) {
	body := []byte(strings.Repeat("é", 10000)) // not JSON, 20000 bytes
	e := ParseError(500, nil, body, time.Now())
	if len(e.Body) != MaxErrorBody {
		t.Errorf("Body kept %d bytes, want %d", len(e.Body), MaxErrorBody)
	}
	if len(e.Message) > 200 || !strings.HasPrefix(e.Message, "éé") || strings.ContainsRune(e.Message, '\uFFFD') {
		t.Errorf("Message %q", e.Message)
	}
	body[0] = 'x'
	if e.Body[0] == 'x' {
		t.Error("Body aliases the caller's buffer")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportError(t *testing.T) {
	tests := []struct {
		err  error
		want provider.Class
	}{
		{context.Canceled, provider.ClassCanceled},
		{fmt.Errorf("post: %w", context.Canceled), provider.ClassCanceled},
		{context.DeadlineExceeded, provider.ClassTimeout},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, provider.ClassTimeout},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, provider.ClassConnection},
		{io.ErrUnexpectedEOF, provider.ClassConnection},
		{syscall.ECONNRESET, provider.ClassConnection},
	}
	for _, tt := range tests {
		e := TransportError(tt.err)
		if e.Class != tt.want || !errors.Is(e, tt.err) {
			t.Errorf("TransportError(%v) = %v, want class %v wrapping the cause", tt.err, e, tt.want)
		}
	}
	if TransportError(nil) != nil {
		t.Error("TransportError(nil) != nil")
	}
	pe := &provider.Error{Class: provider.ClassServer}
	if TransportError(fmt.Errorf("x: %w", pe)) != pe {
		t.Error("an *Error is not returned unchanged")
	}
}

func FuzzParseError(f *testing.F) {
	f.Add(429, []byte(`{"error":{"message":"m","type":"t","code":"insufficient_quota"}}`), "1.5")
	f.Add(200, []byte(`{"error":{"code":429}}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(500, []byte(`<html>`), "")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := ParseError(status, h, body, time.Now())
		if e == nil || len(e.Body) > MaxErrorBody || e.RetryAfter < 0 {
			t.Fatalf("bad error %+v", e)
		}
		_ = e.Error()
	})
}
