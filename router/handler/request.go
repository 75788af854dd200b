package handler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// maxPooledBuffer is the largest body buffer kept for reuse; larger ones
// (uploads, big images) are left to the garbage collector.
const maxPooledBuffer = 1 << 20

// getBuf returns an empty pooled buffer.
func (h *Handler) getBuf() *bytes.Buffer {
	b := h.bufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuf returns b to the pool unless it grew too large.
func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		h.bufs.Put(b)
	}
}

// tooLarge is the 413 answer for a body over limit.
func tooLarge(limit int64) *apiError {
	return &apiError{
		status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "request_too_large",
		message: fmt.Sprintf("request body too large: the limit is %s", byteSize(limit)), class: "too_large",
	}
}

// byteSize formats n as "20 MiB", "512 KiB" or "100 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// maxReserve is the most readBody reserves from a declared Content-Length
// before the bytes arrive: beyond it the buffer grows with what arrives,
// so a client that declares 20 MB and sends one byte holds 64 KiB, not
// 20 MB.
const maxReserve = 64 << 10

// readBody reads the request body, at most limit bytes, into buf, waiting
// at most timeout between two reads (none when timeout <= 0).
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64, timeout time.Duration) *apiError {
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	if r.ContentLength > 0 {
		buf.Grow(int(min(r.ContentLength+1, maxReserve))) // +1: room to see the end without growing
	}
	dl := newBodyDeadline(w, timeout)
	// Read straight into buf's spare capacity: no io.LimitReader (one
	// allocation per request) and no copy. bytes.Buffer doubles its
	// capacity as it grows, so what is held stays within twice what
	// arrived.
	var total int64
	for {
		if buf.Available() == 0 {
			buf.Grow(bytes.MinRead)
		}
		spare := buf.AvailableBuffer()
		spare = spare[:min(int64(cap(spare)), limit+1-total)]
		dl.extend()
		n, err := r.Body.Read(spare)
		buf.Write(spare[:n])
		total += int64(n)
		if total > limit {
			// The deadline stays: the server may read what is left
			// of the body to keep the connection.
			return tooLarge(limit)
		}
		if err == io.EOF {
			dl.clear()
			return nil
		}
		if err != nil {
			return bodyReadError(w, err, timeout)
		}
	}
}

// bodyReadError answers a failure to read a request body: 408 when it
// stopped arriving for the body read timeout, else 400. The connection is
// closed after the answer (what is left of the body on it is garbage),
// and the read deadline is left as it is so that nothing more is waited
// for on it.
func bodyReadError(w http.ResponseWriter, err error, timeout time.Duration) *apiError {
	w.Header().Set("Connection", "close")
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &apiError{status: http.StatusRequestTimeout, typ: "invalid_request_error", code: "body_read_timeout",
			message: fmt.Sprintf("the request body stopped arriving: nothing came for %s", timeout), class: "body_timeout"}
	}
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "body_read_error",
		message: "reading the request body: " + err.Error(), class: "bad_request"}
}

// bodyDeadline bounds the wait between two reads of a request body, as
// nginx's client_body_timeout does: the connection's read deadline is
// moved to now+d before each read, so an upload that keeps arriving, however
// long, is never cut, and one that stalls is cut after d. It works through
// http.ResponseController; on a ResponseWriter that cannot set read
// deadlines (a test recorder, a wrapper without Unwrap) it does nothing.
type bodyDeadline struct {
	rc  *http.ResponseController
	d   time.Duration
	set bool // a deadline is set
}

func newBodyDeadline(w http.ResponseWriter, d time.Duration) bodyDeadline {
	switch w.(type) {
	case interface{ SetReadDeadline(time.Time) error }, interface{ Unwrap() http.ResponseWriter }:
	default:
		// Cannot set deadlines: skip the controller, whose "not
		// supported" error costs two allocations per request.
		return bodyDeadline{}
	}
	if d <= 0 {
		return bodyDeadline{}
	}
	return bodyDeadline{rc: http.NewResponseController(w), d: d}
}

// extend moves the read deadline to d from now.
func (b *bodyDeadline) extend() {
	if b.rc == nil {
		return
	}
	if err := b.rc.SetReadDeadline(time.Now().Add(b.d)); err != nil {
		b.rc = nil // not supported by this ResponseWriter
		return
	}
	b.set = true
}

// clear removes the read deadline once the body has been read: a deadline
// left behind would end the server's wait for the client to go away, and
// with it a long stream's context.
func (b *bodyDeadline) clear() {
	if b.set {
		_ = b.rc.SetReadDeadline(time.Time{})
		b.set = false
	}
}

// deadlineBody is a request body whose reads are bounded by a
// bodyDeadline, for bodies read by other code (a multipart reader).
type deadlineBody struct {
	io.ReadCloser
	dl *bodyDeadline
}

func (b deadlineBody) Read(p []byte) (int, error) {
	b.dl.extend()
	return b.ReadCloser.Read(p)
}

// fields are the only parts of a JSON request body the handler reads (see
// scanFields): the rest goes upstream untouched. The JSON tags serve the
// tests, which check scanFields against encoding/json.
type fields struct {
	Model    string    `json:"model"`
	Stream   bool      `json:"stream"`
	Metadata *metadata `json:"metadata"`
}

// metadata is LiteLLM's per-request metadata; only its tags matter here.
type metadata struct {
	Tags []string `json:"tags"`
}

// headerTags reads tags from the X-Switchyard-Tags request header, a comma
// separated list, for clients that cannot add metadata to the body (and
// for multipart requests).
func headerTags(r *http.Request, tags []string) []string {
	v := r.Header.Get("X-Switchyard-Tags")
	if v == "" {
		return tags
	}
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// Caps on what a client sent that is echoed in an answer or a log line,
// so that a 100 KB model name or path cannot fill either.
const (
	maxEchoedModel = 100
	maxEchoedPath  = 200
)

// clip shortens s to at most n bytes (on a rune boundary), marking the
// cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
