package handler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// stallingBody is a request body that gives its first bytes, then blocks
// until released, like a client that declared a large body and sent one
// byte. reached is closed when the handler asks for more.
type stallingBody struct {
	first   []byte
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	b.once.Do(func() { close(b.reached) })
	<-b.release
	return 0, errors.New("client gone")
}

func (b *stallingBody) Close() error { return nil }

// TestBodyReserveFollowsArrival checks that a request declaring a 20 MB
// body and sending one byte does not make the handler reserve 20 MB: the
// heap grows with what arrived, not with Content-Length. It logs the
// growth: go test -run TestBodyReserveFollowsArrival -v ./router/handler/
func TestBodyReserveFollowsArrival(t *testing.T) {
	const (
		n        = 16
		declared = 20 << 20
	)
	st := newStack(t, stackConfig{})
	bodies := make([]*stallingBody, n)
	for i := range bodies {
		bodies[i] = &stallingBody{first: []byte(`{`), reached: make(chan struct{}), release: make(chan struct{})}
	}
	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", b)
			req.ContentLength = declared
			rec := httptest.NewRecorder()
			st.h.ServeHTTP(rec, req)
			codes[i] = rec.Code
		}()
	}
	for _, b := range bodies {
		<-b.reached // every handler is waiting for the rest of its body
	}
	runtime.GC()
	runtime.ReadMemStats(&during)
	for _, b := range bodies {
		close(b.release)
	}
	wg.Wait()
	grown := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d requests declaring %d MiB, 1 byte sent: heap grew by %.1f MiB (%.1f KiB per request)",
		n, declared>>20, float64(grown)/(1<<20), float64(grown)/n/1024)
	// What arrived is one byte; 64 KiB is reserved at most. A generous
	// bound, far below the declared n*20 MiB.
	if limit := int64(n * (1 << 20)); grown > limit {
		t.Errorf("heap grew by %d bytes for %d stalled requests, want under %d: the declared size was reserved", grown, n, limit)
	}
	for i, c := range codes {
		if c != http.StatusBadRequest {
			t.Errorf("request %d: status %d, want 400 (body read error)", i, c)
		}
	}
}

// rawRequest writes head (a request line and headers, without the blank
// line) and body on a new connection to srv, and returns the connection
// and a reader of the answer. The connection's deadline is a generous
// guard, so that a handler that never answers fails the test instead of
// hanging it.
func rawRequest(t *testing.T, srv *httptest.Server, head string, body []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// TestBodyReadTimeout checks that a body that stops arriving is answered
// 408 once the body read timeout passes, and its connection closed, for
// JSON bodies and multipart uploads alike.
func TestBodyReadTimeout(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithBodyReadTimeout(100 * time.Millisecond)}})
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("model", "whisper-1")
	for _, tt := range []struct {
		name, head string
		body       []byte
	}{
		{"json", "POST /v1/chat/completions HTTP/1.1\nHost: gw\nContent-Type: application/json\nContent-Length: 20971520", []byte(`{`)},
		{"json chunked", "POST /v1/chat/completions HTTP/1.1\nHost: gw\nContent-Type: application/json\nTransfer-Encoding: chunked", []byte("1\r\n{\r\n")},
		{"multipart", "POST /v1/audio/transcriptions HTTP/1.1\nHost: gw\nContent-Type: " + mw.FormDataContentType() + "\nContent-Length: 20971520", form.Bytes()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, br := rawRequest(t, st.srv, tt.head, tt.body)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer while the body stalls: %v", err)
			}
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("status %d, want 408", resp.StatusCode)
			}
			if !resp.Close {
				t.Error("the answer does not close the connection")
			}
			if e := decodeError(t, resp); str(e.Error.Code) != "body_read_timeout" {
				t.Errorf("code %s, want body_read_timeout", str(e.Error.Code))
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("after the answer the connection gave %v, want EOF (closed)", err)
			}
		})
	}
	if got := metricValue(t, st.reg, "switchyard_handler_refusals_total", "reason=body_timeout"); got != 3 {
		t.Errorf("refusals counted body_timeout %v times, want 3", got)
	}
}

// TestSlowUploadNotCut checks that the body read timeout bounds the wait
// between reads, not the whole body: an upload that keeps arriving, over
// several times the timeout, is served.
func TestSlowUploadNotCut(t *testing.T) {
	const timeout = 500 * time.Millisecond
	st := newStack(t, stackConfig{handler: []Option{WithBodyReadTimeout(timeout)}})
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 30) + `"}]}`)
	conn, br := rawRequest(t, st.srv, "POST /v1/chat/completions HTTP/1.1\nHost: gw\nContent-Type: application/json\nContent-Length: "+strconv.Itoa(len(body)), nil)
	const pieces = 15 // 1.5 s in all, three times the timeout
	step := (len(body) + pieces - 1) / pieces
	for i := 0; i < len(body); i += step {
		time.Sleep(timeout / 5)
		if _, err := conn.Write(body[i:min(i+step, len(body))]); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slow upload: status %d %s", resp.StatusCode, got)
	}
}

// TestBodyDeadlineCleared checks that the body's read deadline is gone
// once the body is read: an answer that takes longer than the body read
// timeout is not cut (a deadline left behind would end the server's wait
// for the client to go away, and cancel the call).
func TestBodyDeadlineCleared(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			st := newStack(t, stackConfig{
				handler: []Option{WithBodyReadTimeout(50 * time.Millisecond)},
				fake:    []openaitest.Option{openaitest.WithLatency(300 * time.Millisecond), openaitest.WithStreamTiming(100*time.Millisecond, 100*time.Millisecond, 4)},
			})
			body := chatBody
			if stream {
				body = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d"}]}`
			}
			resp := st.post(t, "/v1/chat/completions", body)
			got := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %s", resp.StatusCode, got)
			}
			if stream && !bytes.HasSuffix(got, []byte("data: [DONE]\n\n")) {
				t.Errorf("stream cut:\n%s", got)
			}
		})
	}
}
