package openaitest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// result is a response read whole.
type result struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to srv.URL+path with a Bearer key (none when key is
// empty) and reads the answer.
func post(t testing.TB, srv *openaitest.Server, path, key, body string) result {
	t.Helper()
	return send(t, srv, http.MethodPost, srv.URL+path, body, header("Authorization", bearerOf(key)))
}

func bearerOf(key string) string {
	if key == "" {
		return ""
	}
	return "Bearer " + key
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

func send(t testing.TB, srv *openaitest.Server, method, url, body string, h http.Header) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" && body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

// decode unmarshals r's body into a generic map, failing the test when it
// is not a JSON object.
func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// errorOf returns the "error" object of an error body.
func (r result) errorOf(t testing.TB) map[string]any {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	return e
}

// path walks a decoded JSON value: keys for objects, ints for arrays.
func path(v any, steps ...any) any {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// event is one parsed server-sent event.
type event struct {
	name string
	data string
}

// sseResult is a streamed answer parsed line by line.
type sseResult struct {
	status  int
	header  http.Header
	events  []event // data events, [DONE] included as data "[DONE]"
	readErr error   // the error that ended reading, nil at a clean EOF
}

// stream posts body and parses the SSE answer line by line, checking the
// framing: every line is "event: x", "data: x" or empty, and every event
// ends with an empty line.
func stream(t testing.TB, srv *openaitest.Server, url, body string, h http.Header) sseResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := sseResult{status: resp.StatusCode, header: resp.Header}
	sc := bufio.NewScanner(resp.Body)
	var cur event
	pending := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if !pending {
				t.Fatalf("empty line without an event before it")
			}
			out.events = append(out.events, cur)
			cur, pending = event{}, false
		case strings.HasPrefix(line, "event: "):
			cur.name, pending = strings.TrimPrefix(line, "event: "), true
		case strings.HasPrefix(line, "data: "):
			cur.data, pending = strings.TrimPrefix(line, "data: "), true
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	out.readErr = sc.Err()
	if pending && out.readErr == nil {
		t.Fatalf("stream ended inside an event")
	}
	return out
}

func chatURL(srv *openaitest.Server) string { return srv.URL + "/chat/completions" }

// objects decodes every event's data except [DONE].
func (s sseResult) objects(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range s.events {
		if e.data == "[DONE]" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(e.data), &m); err != nil {
			t.Fatalf("event data is not JSON: %v: %s", err, e.data)
		}
		out = append(out, m)
	}
	return out
}

// waitInFlight polls until the server has n requests in flight.
func waitInFlight(t testing.TB, srv *openaitest.Server, n int64) {
	t.Helper()
	for srv.Stats().InFlight != n {
		time.Sleep(time.Millisecond)
	}
}

// cancelWhenInFlight cancels ctx once srv has a request in flight.
func cancelWhenInFlight(t testing.TB, srv *openaitest.Server) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		waitInFlight(t, srv, 1)
		cancel()
	}()
	return ctx, func() { <-done; cancel() }
}
