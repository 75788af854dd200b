package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport and of the
		// upstream clients' shared transport outlive a test by design.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// gateway is a gateway started by run in the test.
type gateway struct {
	url  string
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

// start runs the gateway with args (plus --host 127.0.0.1 --port 0) until
// the test ends or stop is called.
func start(t *testing.T, args ...string) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{logs: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		g.done <- run(ctx, append(args, "--host", "127.0.0.1", "--port", "0"), g.logs, func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		g.url = "http://" + addr
	case err := <-g.done:
		cancel()
		t.Fatalf("gateway did not start: %v\n%s", err, g.logs)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-g.done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	})
	return g
}

func (g *gateway) do(t *testing.T, method, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, g.url+path, strings.NewReader(body))
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const auth = "Authorization: Bearer sk-switchyard-demo"

func TestSampleConfig(t *testing.T) {
	g := start(t, "--config", "config.yaml", "--fake")
	chat := `{"model":"gpt-4","messages":[{"role":"user","content":"hello gateway"}]}`

	resp, body := g.do(t, "POST", "/v1/chat/completions", chat, auth)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("echo: hello gateway")) {
		t.Fatalf("chat through the alias: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Switchyard-Model-Group") != "gpt-4o" || resp.Header.Get("X-Ratelimit-Remaining-Requests") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	if resp, _ := g.do(t, "POST", "/v1/chat/completions", chat); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the master key: %d, want 401", resp.StatusCode)
	}

	resp, body = g.do(t, "POST", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b"}]}`, auth)
	if resp.StatusCode != 200 || !bytes.HasSuffix(body, []byte("data: [DONE]\n\n")) {
		t.Errorf("stream: %d %s", resp.StatusCode, body)
	}
	resp, body = g.do(t, "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`, auth)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"embedding"`)) {
		t.Errorf("embeddings: %d %s", resp.StatusCode, body)
	}

	resp, body = g.do(t, "GET", "/v1/models", "", auth)
	var models struct {
		Data []struct{ ID string } `json:"data"`
	}
	_ = json.Unmarshal(body, &models)
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	if got := strings.Join(ids, ","); resp.StatusCode != 200 || got != "gpt-4,gpt-4o,gpt-4o-mini,text-embedding-3-small,whisper-1" {
		t.Errorf("models: %d %s", resp.StatusCode, got)
	}

	resp, body = g.do(t, "GET", "/health/readiness", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"status":"ready"`)) {
		t.Errorf("readiness: %d %s", resp.StatusCode, body)
	}
	resp, body = g.do(t, "GET", "/metrics", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`switchyard_requests_total{endpoint="chat",model_group="gpt-4o",stream="false"} 1`)) {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, grep(body, "switchyard_requests_total"))
	}
	if strings.Contains(g.logs.String(), "not supported") {
		t.Errorf("the sample config has unsupported settings:\n%s", g.logs)
	}
}

// grep returns the lines of b that contain s.
func grep(b []byte, s string) string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

// inFlight sums switchyard_deployment_in_flight from the gateway's
// metrics.
func inFlight(t *testing.T, g *gateway) int {
	t.Helper()
	_, body := g.do(t, "GET", "/metrics", "")
	n := 0
	for _, line := range strings.Split(grep(body, "switchyard_deployment_in_flight{"), "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			n += int(v)
		}
	}
	return n
}

func TestGracefulShutdown(t *testing.T) {
	// The fake takes long enough to answer that the request is still in
	// flight when the gateway is told to stop.
	g := start(t, "--config", "config.yaml", "--fake", "--fake-latency", "500ms")
	type result struct {
		status int
		body   []byte
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"finish me"}]}`))
		req.Header.Set("Authorization", "Bearer sk-switchyard-demo")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resc <- result{resp.StatusCode, b, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for inFlight(t, g) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	http.DefaultClient.CloseIdleConnections() // the metrics connection must not hold up Shutdown
	g.stop()                                  // as SIGTERM does
	r := <-resc
	if r.err != nil || r.status != 200 || !bytes.Contains(r.body, []byte("echo: finish me")) {
		t.Fatalf("request in flight at shutdown: %d %s %v", r.status, r.body, r.err)
	}
	if err := <-g.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	g.done <- nil // for the cleanup
	if _, err := http.Get(g.url + "/health"); err == nil {
		t.Error("the gateway still accepts connections after shutdown")
	}
	logs := g.logs.String()
	if !strings.Contains(logs, "shutting down") || !strings.Contains(logs, "gateway stopped") {
		t.Errorf("logs:\n%s", logs)
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartupErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing env without --fake", []string{"--config", "config.yaml"},
			[]string{"line 35", "FAKE_OPENAI_BASE is not set", "--fake"}},
		{"malformed yaml", []string{"--config", writeConfig(t, "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n   oops: 1\n")},
			[]string{"line 5", "malformed YAML"}},
		{"wrong type", []string{"--config", writeConfig(t, "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      rpm: fast\n")},
			[]string{"line 5", "model_list[0].litellm_params.rpm", `expected an integer, got "fast"`}},
		{"refused by the router", []string{"--config", writeConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_base: http://127.0.0.1:1/v1}\n  - model_name: b\n    litellm_params:\n      model: azure/x\n      api_base: https://x.openai.azure.com\n")},
			[]string{"line 4", "model_list[1].litellm_params.api_version", "is required for an azure/ model"}},
		{"unknown strategy", []string{"--config", writeConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  routing_strategy: fastest\n")},
			[]string{"line 5", "router_settings.routing_strategy", `unknown strategy "fastest"`, "simple-shuffle"}},
		{"no file", []string{"--config", "/nonexistent/config.yaml"}, []string{"cannot read"}},
		{"bad port", []string{"--port", "70000"}, []string{"out of range"}},
		{"stray argument", []string{"--config", "config.yaml", "extra"}, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			err := run(context.Background(), tt.args, &logs, func(string) { t.Error("the gateway started") })
			if err == nil {
				t.Fatal("run succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestUnsupportedSettingsLogged(t *testing.T) {
	cfg := writeConfig(t, `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: os.environ/FAKE_OPENAI_BASE
      api_key: os.environ/FAKE_OPENAI_KEY
      temperature: 0.1
router_settings:
  allowed_fails_policy: {RateLimitErrorAllowedFails: 3}
litellm_settings:
  success_callback: ["langfuse"]
`)
	g := start(t, "--config", cfg, "--fake")
	logs := g.logs.String()
	for _, want := range []string{
		"setting=model_list[].litellm_params.temperature line=8",
		"setting=router_settings.allowed_fails_policy line=10",
		"setting=litellm_settings.success_callback line=12",
		"no general_settings.master_key",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	// No master key: requests need none.
	if resp, body := g.do(t, "POST", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != 200 {
		t.Errorf("chat: %d %s", resp.StatusCode, body)
	}
}

// TestRedisAndCache runs the gateway with router_settings.redis_* and a
// redis response cache on an in-process Redis: the second identical
// request is answered from the cache, and router state lands in Redis.
func TestRedisAndCache(t *testing.T) {
	mr := miniredis.RunT(t)
	host, port, _ := strings.Cut(mr.Addr(), ":")
	for _, tt := range []struct {
		name, cache string
		inRedis     bool
	}{
		{"redis", "  cache_params: {type: redis, ttl: 60, namespace: gw}\n", true},
		{"local", "  cache_params: {type: local}\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mr.FlushAll()
			cfg := writeConfig(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_OPENAI_BASE, api_key: os.environ/FAKE_OPENAI_KEY, rpm: 50}
router_settings:
  redis_host: `+host+`
  redis_port: `+port+`
litellm_settings:
  cache: true
`+tt.cache)
			g := start(t, "--config", cfg, "--fake")
			body := `{"model":"gpt-4o","messages":[{"role":"user","content":"cache me"}]}`
			resp1, b1 := g.do(t, "POST", "/v1/chat/completions", body)
			resp2, b2 := g.do(t, "POST", "/v1/chat/completions", body)
			if resp1.StatusCode != 200 || resp2.StatusCode != 200 || !bytes.Equal(b1, b2) {
				t.Fatalf("answers %d %d differ:\n%s\n%s", resp1.StatusCode, resp2.StatusCode, b1, b2)
			}
			if resp1.Header.Get("X-Switchyard-Cache-Hit") == "true" || resp2.Header.Get("X-Switchyard-Cache-Hit") != "true" {
				t.Errorf("cache hit headers %q %q, want a miss then a hit",
					resp1.Header.Get("X-Switchyard-Cache-Hit"), resp2.Header.Get("X-Switchyard-Cache-Hit"))
			}
			_, metrics := g.do(t, "GET", "/metrics", "")
			if !bytes.Contains(metrics, []byte(`switchyard_cache_hits_total{endpoint="chat",model_group="gpt-4o"} 1`)) {
				t.Errorf("metrics:\n%s", grep(metrics, "cache"))
			}
			respKeys := 0
			for _, k := range mr.Keys() {
				if strings.HasPrefix(k, "gw:resp:") {
					respKeys++
				}
			}
			if (respKeys == 1) != tt.inRedis {
				t.Errorf("%d cached answers in Redis (keys %v)", respKeys, mr.Keys())
			}
			if !strings.Contains(g.logs.String(), "through Redis") {
				t.Errorf("logs do not say state is shared:\n%s", g.logs)
			}
		})
	}
}

// TestMaxResponseBytesFlag: --max-response-bytes bounds every
// non-streaming answer, and the error names the limit.
func TestMaxResponseBytesFlag(t *testing.T) {
	g := start(t, "--config", "config.yaml", "--fake", "--max-response-bytes", "100")
	resp, body := g.do(t, "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`, auth)
	if resp.StatusCode != http.StatusBadGateway || !bytes.Contains(body, []byte("response_too_large")) || !bytes.Contains(body, []byte("100-byte limit")) {
		t.Errorf("an answer over the limit: %d %s", resp.StatusCode, body)
	}
	if _, err := parseFlags([]string{"--max-response-bytes", "-1"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--max-response-bytes") {
		t.Errorf("a negative limit: %v", err)
	}
}
