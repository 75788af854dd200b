package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// TestDrainOnShutdown checks the gateway's graceful shutdown with a
// stream in flight: during --shutdown-delay readiness fails and a new
// request is answered 503 with Connection: close; the stream completes
// whole; run returns once it has ended.
func TestDrainOnShutdown(t *testing.T) {
	const chunks = 8
	up := openaitest.NewServer(openaitest.WithStreamTiming(0, 400*time.Millisecond, chunks))
	defer up.Close()
	cfg := writeConfig(t, "model_list:\n  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: "+up.URL+", api_key: k}}\n")
	g := start(t, "--config", cfg, "--shutdown-delay", "1500ms")

	resp, err := http.Post(g.url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d e f g h"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first line %q, %v", line, err)
	}
	streamed := make(chan string, 1)
	go func() {
		rest, _ := io.ReadAll(br)
		resp.Body.Close()
		streamed <- string(rest)
	}()

	g.stop() // as SIGTERM does
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, body := g.do(t, "GET", "/health/readiness", "")
		if r.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), `"status":"draining"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness never said draining: %d %s", r.StatusCode, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, body := g.do(t, "POST", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"late"}]}`)
	if r.StatusCode != http.StatusServiceUnavailable || !r.Close || !strings.Contains(string(body), "shutting_down") {
		t.Errorf("new request while draining: %d close=%v %s; want 503, Connection: close", r.StatusCode, r.Close, body)
	}

	rest := <-streamed
	if !strings.HasSuffix(rest, "data: [DONE]\n\n") || strings.Count(rest, "data: {") < chunks-1 {
		t.Fatalf("the stream in flight at shutdown was cut:\n%s", rest)
	}
	if err := <-g.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	g.done <- nil // for the cleanup
	if n := up.Stats().Requests; n != 1 {
		t.Errorf("upstream saw %d requests, want 1 (the stream)", n)
	}
	logs := g.logs.String()
	if !strings.Contains(logs, "refusing new requests") || strings.Contains(logs, "were cut") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestBodyReadTimeoutFlag checks --body-read-timeout: a request that
// declares 20 MB and sends one byte is answered 408 and its connection
// closed, instead of holding it open.
func TestBodyReadTimeoutFlag(t *testing.T) {
	g := start(t, "--config", "config.yaml", "--fake", "--body-read-timeout", "100ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a guard: the old gateway never answers
	_, _ = io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer sk-switchyard-demo\r\n"+
		"Content-Type: application/json\r\nContent-Length: 20971520\r\n\r\n{")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Errorf("status %d close=%v, want 408 and Connection: close", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the connection stayed open: %v", err)
	}
}

// TestProtectOps checks --protect-ops: /metrics and /health/readiness need
// the master key, or $SWITCHYARD_OPS_KEY when set; /health stays open.
func TestProtectOps(t *testing.T) {
	for _, opsKey := range []string{"", "sk-ops"} {
		t.Run("ops key "+opsKey, func(t *testing.T) {
			if opsKey != "" {
				t.Setenv("SWITCHYARD_OPS_KEY", opsKey)
			}
			g := start(t, "--config", "config.yaml", "--fake", "--protect-ops")
			key := "Authorization: Bearer sk-switchyard-demo"
			if opsKey != "" {
				key = "Authorization: Bearer " + opsKey
			}
			for _, p := range []string{"/metrics", "/health/readiness"} {
				if r, _ := g.do(t, "GET", p, ""); r.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s without a key: %d, want 401", p, r.StatusCode)
				}
				if r, body := g.do(t, "GET", p, "", key); r.StatusCode != http.StatusOK || !strings.Contains(string(body), "gpt-4o-openai") {
					t.Errorf("%s with %s: %d", p, key, r.StatusCode)
				}
			}
			if r, _ := g.do(t, "GET", "/health", ""); r.StatusCode != http.StatusOK {
				t.Errorf("/health without a key: %d, want 200", r.StatusCode)
			}
		})
	}
}
