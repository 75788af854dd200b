package openaitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestFaults(t *testing.T) {
	body := chatBody("gpt-4o", "hello", nil)
	tests := []struct {
		name       string
		fault      openaitest.Fault
		body       string
		wantStatus int
		wantType   any
		wantCode   any
		check      func(t *testing.T, r result)
	}{
		{name: "500", fault: openaitest.Fault{Kind: openaitest.FaultServerError}, wantStatus: 500, wantType: "server_error"},
		{name: "502", fault: openaitest.Fault{Kind: openaitest.FaultServerError, Status: 502}, wantStatus: 502, wantType: "server_error"},
		{name: "503", fault: openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503}, wantStatus: 503, wantType: "server_error"},
		{name: "invalid key", fault: openaitest.Fault{Kind: openaitest.FaultInvalidKey}, wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "rate limit", fault: openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 1500 * time.Millisecond}, wantStatus: 429, wantType: "requests", wantCode: "rate_limit_exceeded",
			check: func(t *testing.T, r result) {
				if r.header.Get("Retry-After") != "2" || r.header.Get("Retry-After-Ms") != "1500" {
					t.Errorf("retry headers %q %q", r.header.Get("Retry-After"), r.header.Get("Retry-After-Ms"))
				}
			}},
		{name: "insufficient quota", fault: openaitest.Fault{Kind: openaitest.FaultInsufficientQuota}, wantStatus: 429, wantType: "insufficient_quota", wantCode: "insufficient_quota",
			check: func(t *testing.T, r result) {
				if r.header.Get("Retry-After") != "" || r.header.Get("Retry-After-Ms") != "" {
					t.Error("insufficient_quota carries a retry hint")
				}
			}},
		{name: "context length", fault: openaitest.Fault{Kind: openaitest.FaultContextLength, Window: 10}, wantStatus: 400, wantType: "invalid_request_error", wantCode: "context_length_exceeded"},
		{name: "context length fits", fault: openaitest.Fault{Kind: openaitest.FaultContextLength, Window: 100000}, wantStatus: 200},
		{name: "content policy", fault: openaitest.Fault{Kind: openaitest.FaultContentPolicy}, wantStatus: 400, wantType: "invalid_request_error", wantCode: "content_policy_violation"},
		{name: "not found", fault: openaitest.Fault{Kind: openaitest.FaultNotFound}, wantStatus: 404, wantType: "invalid_request_error", wantCode: "model_not_found"},
		{name: "content filter finish", fault: openaitest.Fault{Kind: openaitest.FaultContentFilter}, wantStatus: 200,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				if path(m, "choices", 0, "finish_reason") != "content_filter" || path(m, "choices", 0, "message", "content") != "" {
					t.Errorf("%s", r.body)
				}
			}},
		{name: "garbage", fault: openaitest.Fault{Kind: openaitest.FaultGarbage}, wantStatus: 200,
			check: func(t *testing.T, r result) {
				if json.Valid(r.body) || len(r.body) == 0 {
					t.Errorf("garbage body is valid JSON: %s", r.body)
				}
			}},
		{name: "truncated json", fault: openaitest.Fault{Kind: openaitest.FaultTruncatedJSON}, wantStatus: 200,
			check: func(t *testing.T, r result) {
				if json.Valid(r.body) || !strings.HasPrefix(string(r.body), `{"id":"chatcmpl-`) {
					t.Errorf("truncated body %s", r.body)
				}
			}},
		{name: "stream faults spare non-streaming requests", fault: openaitest.Fault{Kind: openaitest.FaultStreamCut}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer()
			defer srv.Close()
			srv.SetFault(tt.fault)
			r := post(t, srv, "/chat/completions", "k", body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantType != nil {
				e := r.errorOf(t)
				if e["type"] != tt.wantType || e["code"] != tt.wantCode {
					t.Errorf("error %v, want type %v code %v", e, tt.wantType, tt.wantCode)
				}
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no x-request-id")
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			last, _ := srv.LastRequest()
			wantFault := tt.fault.Kind
			if tt.wantStatus == 200 && (tt.fault.Kind == openaitest.FaultStreamCut || tt.fault.Kind == openaitest.FaultContextLength) {
				wantFault = openaitest.FaultNone
			}
			if last.Fault != wantFault || last.Status != tt.wantStatus {
				t.Errorf("recorded fault %v status %d", last.Fault, last.Status)
			}
		})
	}
}

func TestFaultScopes(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	chat := chatBody("m", "x", nil)
	emb := `{"model":"e","input":"x"}`
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Count: 2})
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultInvalidKey, Key: "bad"})
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503, Endpoint: "embeddings"})
	if n := len(srv.Faults()); n != 3 {
		t.Fatalf("%d faults", n)
	}
	steps := []struct {
		key, path, body string
		want            int
	}{
		{"bad", "/chat/completions", chat, 401},   // key scope beats server-wide
		{"good", "/embeddings", emb, 503},         // endpoint scope beats server-wide
		{"good", "/chat/completions", chat, 500},  // server-wide, 1 of 2
		{"bad", "/embeddings", emb, 401},          // key beats endpoint
		{"other", "/chat/completions", chat, 500}, // 2 of 2
		{"other", "/chat/completions", chat, 200}, // the counted fault cleared itself
		{"good", "/embeddings", emb, 503},
	}
	for i, s := range steps {
		if r := post(t, srv, s.path, s.key, s.body); r.status != s.want {
			t.Errorf("step %d: %d, want %d", i, r.status, s.want)
		}
	}
	// A FaultNone clears its scope only.
	srv.SetFault(openaitest.Fault{Key: "bad"})
	if r := post(t, srv, "/chat/completions", "bad", chat); r.status != 200 {
		t.Errorf("after clearing the key's fault: %d", r.status)
	}
	srv.ClearFaults()
	if r := post(t, srv, "/embeddings", "good", emb); r.status != 200 || len(srv.Faults()) != 0 {
		t.Errorf("after ClearFaults: %d", r.status)
	}
}

func TestFaultCountLeft(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultGarbage, Count: 3})
	post(t, srv, "/chat/completions", "k", chatBody("m", "x", nil))
	if f := srv.Faults(); len(f) != 1 || f[0].Count != 2 {
		t.Errorf("faults %+v", f)
	}
}

func TestStreamFaults(t *testing.T) {
	body := chatBody("m", "one two three four five", map[string]any{"stream": true})
	t.Run("cut", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, AfterChunks: 2})
		s := stream(t, srv, chatURL(srv), body, header("Authorization", "Bearer k"))
		if s.status != 200 || len(s.events) != 2 {
			t.Fatalf("status %d, %d events: %v", s.status, len(s.events), s.events)
		}
		if !errors.Is(s.readErr, io.ErrUnexpectedEOF) {
			t.Errorf("read error %v, want unexpected EOF", s.readErr)
		}
		// The fault is single-stream: the next stream is whole.
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Count: 1})
		if s := stream(t, srv, chatURL(srv), body, header("Authorization", "Bearer k")); len(s.events) != 0 || s.readErr == nil {
			t.Errorf("AfterChunks 0: %d events, err %v", len(s.events), s.readErr)
		}
		if s := stream(t, srv, chatURL(srv), body, header("Authorization", "Bearer k")); s.readErr != nil || s.events[len(s.events)-1].data != "[DONE]" {
			t.Errorf("after the counted fault: err %v", s.readErr)
		}
	})
	t.Run("error event", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamError, AfterChunks: 3})
		s := stream(t, srv, chatURL(srv), body, header("Authorization", "Bearer k"))
		if s.readErr != nil || len(s.events) != 4 {
			t.Fatalf("err %v, %d events", s.readErr, len(s.events))
		}
		var last map[string]any
		if err := json.Unmarshal([]byte(s.events[3].data), &last); err != nil || path(last, "error", "type") != "server_error" {
			t.Errorf("last event %q", s.events[3].data)
		}
	})
	t.Run("responses error event", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamError, AfterChunks: 2})
		s := stream(t, srv, srv.URL+"/responses", `{"model":"m","input":"x","stream":true}`, header("Authorization", "Bearer k"))
		if len(s.events) != 3 || s.events[2].name != "error" || !strings.Contains(s.events[2].data, `"code":"server_error"`) {
			t.Errorf("events %v", s.events)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultTruncatedJSON})
		s := stream(t, srv, chatURL(srv), body, header("Authorization", "Bearer k"))
		if json.Valid([]byte(s.events[0].data)) || s.events[len(s.events)-1].data != "[DONE]" {
			t.Errorf("events %v", s.events)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultGarbage})
		r := post(t, srv, "/chat/completions", "k", body)
		if r.status != 200 || strings.Contains(string(r.body), "data:") || json.Valid(r.body) {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestHang(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
	ctx, stop := cancelWhenInFlight(t, srv)
	defer stop()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL(srv), strings.NewReader(chatBody("m", "x", nil)))
	req.Header.Set("Authorization", "Bearer k")
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	waitInFlight(t, srv, 0)
	if last, _ := srv.LastRequest(); last.Status != 0 || last.Fault != openaitest.FaultHang {
		t.Errorf("recorded %+v", last)
	}
}

func TestCloseEndsHang(t *testing.T) {
	srv := openaitest.NewServer()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, chatURL(srv), strings.NewReader(chatBody("m", "x", nil)))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitInFlight(t, srv, 1)
	srv.Close() // must not wait for the client to give up
	if err := <-errc; err == nil {
		t.Error("hung request got an answer")
	}
}

func TestLatencyEndsWithClient(t *testing.T) {
	tests := []struct {
		name   string
		opt    openaitest.Option
		stream bool
	}{
		{"latency", openaitest.WithLatency(time.Hour), false},
		{"ttft", openaitest.WithStreamTiming(time.Hour, 0, 0), true},
		{"gap", openaitest.WithStreamTiming(0, time.Hour, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(tt.opt)
			defer srv.Close()
			ctx, stop := cancelWhenInFlight(t, srv)
			defer stop()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL(srv),
				strings.NewReader(chatBody("m", "a b c", map[string]any{"stream": tt.stream})))
			req.Header.Set("Authorization", "Bearer k")
			resp, err := srv.Client().Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			waitInFlight(t, srv, 0)
		})
	}
}

func TestStreamChunks(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithStreamTiming(0, 0, 2))
	defer srv.Close()
	if r := post(t, srv, "/chat/completions", "k", chatBody("m", "x", nil)); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	s := stream(t, srv, chatURL(srv), chatBody("m", "abcdefgh", map[string]any{"stream": true}), header("Authorization", "Bearer k"))
	// role chunk, 2 content chunks, finish chunk, [DONE]
	if len(s.events) != 5 {
		t.Errorf("%d events, want 5", len(s.events))
	}
}

func TestFaultsAfterLimits(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now), openaitest.WithKey("k", openaitest.KeyConfig{RPM: 2}))
	defer srv.Close()
	body := chatBody("m", "x", nil)
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Count: 1})
	for i, want := range []int{500, 200, 429} { // the failed call still cost a request
		if r := post(t, srv, "/chat/completions", "k", body); r.status != want {
			t.Errorf("request %d: %d, want %d", i, r.status, want)
		}
	}
	// A request the buckets refuse does not use up a counted fault.
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Count: 1})
	if r := post(t, srv, "/chat/completions", "k", body); r.status != 429 {
		t.Errorf("limited: %d", r.status)
	}
	if f := srv.Faults(); len(f) != 1 || f[0].Count != 1 {
		t.Errorf("faults %+v", f)
	}
	clk.Step(time.Minute)
	if r := post(t, srv, "/chat/completions", "k", body); r.status != 500 || r.header.Get("X-Ratelimit-Remaining-Requests") != "1" {
		t.Errorf("after refill: %d remaining %q", r.status, r.header.Get("X-Ratelimit-Remaining-Requests"))
	}
}
