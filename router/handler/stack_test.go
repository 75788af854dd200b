package handler

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// stack is a gateway under test: an httptest server running a Handler
// over a Router whose deployments are on a fake upstream.
type stack struct {
	fake    *openaitest.Server
	rt      *router.Router
	h       *Handler
	srv     *httptest.Server
	metrics *Metrics
	reg     *prometheus.Registry
}

// stackConfig adjusts a stack.
type stackConfig struct {
	fake    []openaitest.Option
	handler []Option
	router  []router.Option
	// config changes the router config before the router is made.
	config func(c *router.Config, fakeURL string)
}

func zero() *int { n := 0; return &n }

// newStack starts a fake upstream and a gateway in front of it. Groups:
// gpt-4o (two keys on the fake... one deployment by default),
// text-embedding-3-small, whisper-1. Retries are off so that upstream
// errors come back as they are.
func newStack(t testing.TB, sc stackConfig) *stack {
	t.Helper()
	st := &stack{}
	st.fake = openaitest.NewServer(sc.fake...)
	t.Cleanup(st.fake.Close)
	cfg := router.Config{
		Deployments: []deployment.Config{
			{ID: "gpt-4o-a", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-upstream-a", BaseURL: st.fake.URL},
			{ID: "embed-a", ModelName: "text-embedding-3-small", Model: "openai/text-embedding-3-small", APIKey: "sk-upstream-a", BaseURL: st.fake.URL},
			{ID: "whisper-a", ModelName: "whisper-1", Model: "openai/whisper-1", APIKey: "sk-upstream-a", BaseURL: st.fake.URL},
		},
		Settings: router.Settings{NumRetries: zero()},
	}
	if sc.config != nil {
		sc.config(&cfg, st.fake.URL)
	}
	st.reg = prometheus.NewRegistry()
	st.metrics = NewMetrics(st.reg)
	ropts := append([]router.Option{router.WithHooks(st.metrics.Hooks())}, sc.router...)
	rt, err := router.New(cfg, ropts...)
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	st.rt = rt
	t.Cleanup(func() { _ = rt.Close() })
	st.h = New(rt, append([]Option{WithMetrics(st.metrics)}, sc.handler...)...)
	st.srv = httptest.NewServer(st.h)
	t.Cleanup(st.srv.Close)
	return st
}

// post sends a JSON body to path with the given headers ("Name: value").
func (st *stack) post(t testing.TB, path, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, st.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// get sends a GET to path.
func (st *stack) get(t testing.TB, path string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// readAll reads and closes a response body.
func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b
}

// openAIError is the error body clients see.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// decodeError reads an error answer, failing the test when its shape is
// not OpenAI's.
func decodeError(t testing.TB, resp *http.Response) openAIError {
	t.Helper()
	body := readAll(t, resp)
	var e openAIError
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s is not in OpenAI's shape: %v", body, err)
	}
	if e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("error body %s lacks message or type", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return e
}

// waitFor polls cond until it holds, failing after a generous deadline.
// It waits on other goroutines' progress, not on time passing.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}
