package handler

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// TestDrain checks a graceful shutdown through Drain and
// http.Server.Shutdown: a stream in flight completes whole, a request that
// arrives meanwhile is answered 503 with Connection: close, readiness says
// draining, and Shutdown returns once the stream has ended.
func TestDrain(t *testing.T) {
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithStreamTiming(0, 150*time.Millisecond, 6)}})
	req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}`))
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "data: {") {
		t.Fatalf("first line %q, %v", first, err)
	}
	type result struct {
		body string
		err  error
	}
	streamed := make(chan result, 1)
	go func() {
		rest, err := io.ReadAll(br)
		resp.Body.Close()
		streamed <- result{first + string(rest), err}
	}()

	st.h.Drain()
	if !st.h.Draining() {
		t.Fatal("Draining() = false after Drain")
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
		r := st.post(t, path, chatBody)
		if r.StatusCode != http.StatusServiceUnavailable || !r.Close || r.Header.Get("Retry-After") != "1" {
			t.Errorf("%s while draining: status %d, close %v, retry-after %q; want 503, close, 1",
				path, r.StatusCode, r.Close, r.Header.Get("Retry-After"))
		}
		if e := decodeError(t, r); str(e.Error.Code) != "shutting_down" {
			t.Errorf("%s while draining: code %s", path, str(e.Error.Code))
		}
	}
	r := st.get(t, "/health/readiness")
	if body := readAll(t, r); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"status":"draining"`) || !r.Close {
		t.Errorf("readiness while draining: %d %s", r.StatusCode, body)
	}
	if r := st.get(t, "/health/liveness"); r.StatusCode != http.StatusOK {
		t.Errorf("liveness while draining: %d", r.StatusCode)
	} else {
		readAll(t, r)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v (the stream in flight held it past the deadline?)", err)
	}
	res := <-streamed
	if res.err != nil || !strings.HasSuffix(res.body, "data: [DONE]\n\n") || strings.Count(res.body, "data: {") < 6 {
		t.Fatalf("the stream in flight at shutdown was not whole (%v):\n%s", res.err, res.body)
	}
	if n := metricValue(t, st.reg, "switchyard_handler_refusals_total", "reason=draining"); n != 2 {
		t.Errorf("refusals counted draining %v times, want 2", n)
	}
	if got := st.fake.Stats().Requests; got != 1 {
		t.Errorf("upstream saw %d requests, want 1 (the stream)", got)
	}
}
