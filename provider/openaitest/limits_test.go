package openaitest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// fixedCost makes every JSON request's prompt estimate n tokens.
func fixedCost(n int) openaitest.Option {
	return openaitest.WithTokenEstimator(func([]byte) int { return n })
}

func TestRequestBucket(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now), openaitest.WithKey("sk-a", openaitest.KeyConfig{RPM: 3}))
	defer srv.Close()
	body := chatBody("gpt-4o", "hi", nil)
	// 3 per minute: remaining 2, 1, 0 with resets 20s, 40s, 1m0s.
	for i, want := range []struct{ rem, reset string }{{"2", "20s"}, {"1", "40s"}, {"0", "1m0s"}} {
		r := post(t, srv, "/chat/completions", "sk-a", body)
		if r.status != 200 {
			t.Fatalf("request %d: status %d", i, r.status)
		}
		if got := r.header.Get("X-Ratelimit-Limit-Requests"); got != "3" {
			t.Errorf("request %d: limit %q", i, got)
		}
		if got := r.header.Get("X-Ratelimit-Remaining-Requests"); got != want.rem {
			t.Errorf("request %d: remaining %q, want %q", i, got, want.rem)
		}
		if got := r.header.Get("X-Ratelimit-Reset-Requests"); got != want.reset {
			t.Errorf("request %d: reset %q, want %q", i, got, want.reset)
		}
		if r.header.Get("X-Ratelimit-Limit-Tokens") != "" {
			t.Errorf("request %d: token headers without a TPM", i)
		}
	}
	r := post(t, srv, "/chat/completions", "sk-a", body)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d", r.status)
	}
	e := r.errorOf(t)
	if e["type"] != "requests" || e["code"] != "rate_limit_exceeded" {
		t.Errorf("error %v", e)
	}
	if got, want := r.header.Get("Retry-After"), "20"; got != want {
		t.Errorf("retry-after %q, want %q", got, want)
	}
	if got, want := r.header.Get("Retry-After-Ms"), "20000"; got != want {
		t.Errorf("retry-after-ms %q, want %q", got, want)
	}
	if got := r.header.Get("X-Ratelimit-Remaining-Requests"); got != "0" {
		t.Errorf("429 remaining %q", got)
	}
	// 19 s later still limited; the hint shrinks.
	clk.Step(19 * time.Second)
	r = post(t, srv, "/chat/completions", "sk-a", body)
	if r.status != 429 || r.header.Get("Retry-After-Ms") != "1000" {
		t.Fatalf("after 19s: %d retry-after-ms %q", r.status, r.header.Get("Retry-After-Ms"))
	}
	// After the hint, one request is admitted again.
	clk.Step(time.Second)
	if r = post(t, srv, "/chat/completions", "sk-a", body); r.status != 200 || r.header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("after 20s: %d remaining %q", r.status, r.header.Get("X-Ratelimit-Remaining-Requests"))
	}
	st := srv.Stats()
	if st.RateLimited != 2 || st.Keys["sk-a"].RateLimited != 2 || st.Keys["sk-a"].Requests != 6 || st.Status[429] != 2 || st.Status[200] != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestTokenBucket(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now), fixedCost(100),
		openaitest.WithKey("sk-t", openaitest.KeyConfig{RPM: 1000, TPM: 1000}))
	defer srv.Close()
	// Cost 100 prompt + 400 max_tokens = 500 per request.
	body := chatBody("gpt-4o", "hi", map[string]any{"max_tokens": 400})
	for i, want := range []struct{ rem, reset string }{{"500", "30s"}, {"0", "1m0s"}} {
		r := post(t, srv, "/chat/completions", "sk-t", body)
		if r.status != 200 || r.header.Get("X-Ratelimit-Remaining-Tokens") != want.rem || r.header.Get("X-Ratelimit-Reset-Tokens") != want.reset ||
			r.header.Get("X-Ratelimit-Limit-Tokens") != "1000" {
			t.Fatalf("request %d: %d remaining %q reset %q", i, r.status, r.header.Get("X-Ratelimit-Remaining-Tokens"), r.header.Get("X-Ratelimit-Reset-Tokens"))
		}
	}
	r := post(t, srv, "/chat/completions", "sk-t", body)
	if r.status != 429 || r.errorOf(t)["type"] != "tokens" || r.header.Get("Retry-After") != "30" {
		t.Fatalf("3rd: %d %s retry-after %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	// Without max_tokens the allowance is DefaultCompletionTokens.
	clk.Step(3 * time.Second) // refills 50 tokens
	r = post(t, srv, "/chat/completions", "sk-t", chatBody("gpt-4o", "hi", nil))
	if r.status != 429 {
		t.Fatalf("cost %d with 50 tokens left: status %d", 100+openaitest.DefaultCompletionTokens, r.status)
	}
	clk.Step(7 * time.Second) // 166 tokens
	r = post(t, srv, "/chat/completions", "sk-t", chatBody("gpt-4o", "hi", nil))
	if want := strconv.Itoa(166 - 100 - openaitest.DefaultCompletionTokens); r.status != 200 || r.header.Get("X-Ratelimit-Remaining-Tokens") != want {
		t.Fatalf("after refill: %d remaining %q, want %s", r.status, r.header.Get("X-Ratelimit-Remaining-Tokens"), want)
	}
	// A request larger than the whole bucket is refused without a retry hint.
	r = post(t, srv, "/chat/completions", "sk-t", chatBody("gpt-4o", "hi", map[string]any{"max_tokens": 5000}))
	if r.status != 429 || r.header.Get("Retry-After") != "" || r.errorOf(t)["type"] != "tokens" {
		t.Errorf("too large: %d retry-after %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
}

func TestBucketScopes(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now),
		openaitest.WithKey("g1", openaitest.KeyConfig{RPM: 2, Group: "org"}),
		openaitest.WithKey("g2", openaitest.KeyConfig{RPM: 99, Group: "org"}), // the group's first limits apply
		openaitest.WithKey("pm", openaitest.KeyConfig{RPM: 1, PerModel: true}),
		openaitest.WithAnyKey(openaitest.KeyConfig{RPM: 1}),
	)
	defer srv.Close()
	steps := []struct {
		key, model string
		want       int
	}{
		{"g1", "m", 200}, {"g2", "m", 200}, {"g1", "m", 429}, {"g2", "m", 429}, // shared
		{"pm", "a", 200}, {"pm", "b", 200}, {"pm", "a", 429}, // per model
		{"x1", "m", 200}, {"x2", "m", 200}, {"x1", "m", 429}, // any key: one bucket each
	}
	for i, s := range steps {
		if r := post(t, srv, "/chat/completions", s.key, chatBody(s.model, "hi", nil)); r.status != s.want {
			t.Errorf("step %d (%s %s): %d, want %d", i, s.key, s.model, r.status, s.want)
		}
	}
}

func TestAuth(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithKey("sk-good-key-1234", openaitest.KeyConfig{Organization: "org-1", Project: "proj-1"}))
	defer srv.Close()
	body := chatBody("m", "x", nil)
	tests := []struct {
		name     string
		h        http.Header
		want     int
		wantCode any
	}{
		{"good", header("Authorization", "Bearer sk-good-key-1234"), 200, nil},
		{"lower-case bearer", header("Authorization", "bearer sk-good-key-1234"), 200, nil},
		{"unknown key", header("Authorization", "Bearer sk-bad-key-5678"), 401, "invalid_api_key"},
		{"no key", header(), 401, nil},
		{"api-key header is not OpenAI's", header("Api-Key", "sk-good-key-1234"), 401, nil},
		{"matching org and project", header("Authorization", "Bearer sk-good-key-1234", "OpenAI-Organization", "org-1", "OpenAI-Project", "proj-1"), 200, nil},
		{"other org", header("Authorization", "Bearer sk-good-key-1234", "OpenAI-Organization", "org-2"), 401, "mismatched_organization"},
		{"other project", header("Authorization", "Bearer sk-good-key-1234", "OpenAI-Project", "proj-2"), 401, "mismatched_project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, srv, http.MethodPost, chatURL(srv), body, tt.h)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.want == 401 {
				e := r.errorOf(t)
				if e["code"] != tt.wantCode || e["type"] != "invalid_request_error" {
					t.Errorf("error %v", e)
				}
			}
		})
	}
	r := send(t, srv, http.MethodPost, chatURL(srv), body, header("Authorization", "Bearer sk-bad-key-5678"))
	if msg := r.errorOf(t)["message"].(string); msg != "Incorrect API key provided: sk-***5678. You can find your API key at https://platform.openai.com/account/api-keys." {
		t.Errorf("message %q", msg)
	}
	if st := srv.Stats(); st.Keys["sk-bad-key-5678"].Requests != 2 || st.Status[401] != 6 {
		t.Errorf("stats %+v", st)
	}
	t.Run("any key by default", func(t *testing.T) {
		open := openaitest.NewServer()
		defer open.Close()
		if r := post(t, open, "/chat/completions", "whatever", body); r.status != 200 {
			t.Errorf("status %d", r.status)
		}
		if r := post(t, open, "/chat/completions", "", body); r.status != 401 {
			t.Errorf("no key: status %d", r.status)
		}
	})
}

// TestDrain: a drained key answers 429 at once, with nothing remaining,
// and refills from empty at its rate (120 rpm: one request per 500 ms).
func TestDrain(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now), openaitest.WithKey("sk-a", openaitest.KeyConfig{RPM: 120}))
	defer srv.Close()
	body := chatBody("gpt-4o", "hi", nil)
	srv.Drain("sk-a")
	r := post(t, srv, "/chat/completions", "sk-a", body)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d right after Drain, want 429", r.status)
	}
	if got, want := r.header.Get("Retry-After-Ms"), "500"; got != want {
		t.Errorf("retry-after-ms %q, want %q", got, want)
	}
	if got := r.header.Get("X-Ratelimit-Remaining-Requests"); got != "0" {
		t.Errorf("remaining %q, want 0", got)
	}
	clk.Step(500 * time.Millisecond)
	if r := post(t, srv, "/chat/completions", "sk-a", body); r.status != 200 {
		t.Fatalf("status %d after one request's refill", r.status)
	}
	if r := post(t, srv, "/chat/completions", "sk-a", body); r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d for a second request in the same instant", r.status)
	}
	srv.Drain("sk-unknown") // not a key of the fake: nothing happens
}
