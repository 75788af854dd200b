package openaitest

import (
	"bytes"
	"io"
	"net/http"
)

// padItem is one element of the "x_padding" array: a number as long as an
// embedding's.
const padItem = "-0.0123456789,"

// padBlock is a block of padItems, written over and over; never modified.
var padBlock = bytes.Repeat([]byte(padItem), (64<<10)/len(padItem))

// padSpaces fills what whole items cannot; never modified.
var padSpaces = bytes.Repeat([]byte{' '}, len(padItem))

// writePadded writes the JSON answer b with the configured padding, and
// under FaultBodyCut only its first half before cutting the connection.
func (c *call) writePadded(b []byte) {
	pad := c.h.cfg.padding
	var head, tail []byte
	n := max(pad.Bytes, 0)
	if n > 0 && len(b) >= 2 && b[0] == '{' {
		head = []byte(`{"x_padding":[`)
		tail = []byte("0]")
		if bytes.TrimSpace(b[1:])[0] != '}' {
			tail = append(tail, ',')
		}
		tail = append(tail, b[1:]...)
		n = max(n-len(head)-len(tail)+len(b), 0) // the padding proper
	} else {
		head, n = b, 0
	}
	total := len(head) + n + len(tail)
	cl := total
	if pad.Chunked && c.fault != FaultBodyCut {
		cl = -1
	}
	c.setHeaders("application/json", cl)
	c.status = http.StatusOK
	c.w.WriteHeader(http.StatusOK)
	var w io.Writer = c.w
	if c.fault == FaultBodyCut {
		w = &cutWriter{w: c.w, left: total / 2}
	}
	if _, err := w.Write(head); err != nil {
		return
	}
	for n > 0 {
		k := min(n, len(padBlock))
		k -= k % len(padItem)
		chunk := padBlock[:k]
		if k == 0 {
			chunk = padSpaces[:n]
			k = n
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		n -= k
	}
	_, _ = w.Write(tail)
}

// cutWriter passes left bytes on, then flushes them and cuts the
// connection.
type cutWriter struct {
	w    http.ResponseWriter
	left int
}

func (cw *cutWriter) Write(p []byte) (int, error) {
	if len(p) < cw.left {
		cw.left -= len(p)
		return cw.w.Write(p)
	}
	_, _ = cw.w.Write(p[:cw.left])
	_ = http.NewResponseController(cw.w).Flush()
	abort()
	return 0, nil
}
