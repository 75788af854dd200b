package handler

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// readBody reads the request body, at most limit bytes, into buf.
func readBody(r *http.Request, buf *bytes.Buffer, limit int64) *apiError {
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1: room to see the end without growing
	}
	// Read straight into buf's spare capacity: no io.LimitReader (one
	// allocation per request) and no copy.
	var total int64
	for {
		if buf.Available() == 0 {
			buf.Grow(bytes.MinRead)
		}
		spare := buf.AvailableBuffer()
		spare = spare[:min(int64(cap(spare)), limit+1-total)]
		n, err := r.Body.Read(spare)
		buf.Write(spare[:n])
		total += int64(n)
		if total > limit {
			return tooLarge(limit)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "body_read_error",
				message: "reading the request body: " + err.Error(), class: "bad_request"}
		}
	}
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
