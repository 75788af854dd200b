package openaitest

import (
	"net/http"
	"strconv"
	"time"
)

// setHeaders sets the headers every answer carries; contentLength < 0
// sends none.
func (c *call) setHeaders(contentType string, contentLength int) {
	hd := c.w.Header()
	// One backing array for every value: a header costs no allocation of
	// its own.
	vals := make([]string, 0, 14)
	set := func(k, v string) {
		vals = append(vals, v)
		hd[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if contentType != "" {
		set("Content-Type", contentType)
	}
	if contentLength >= 0 {
		set("Content-Length", strconv.Itoa(contentLength))
	}
	id := c.requestID()
	if c.azure {
		set("Apim-Request-Id", id)
		set("X-Ms-Region", "Fake Region")
	} else {
		set("Openai-Version", "2020-10-01")
		if c.model != "" {
			set("Openai-Model", c.model)
		}
		if c.ks != nil && c.ks.cfg.Organization != "" {
			set("Openai-Organization", c.ks.cfg.Organization)
		}
	}
	set("X-Request-Id", id)
	set("Openai-Processing-Ms", strconv.FormatInt(max(c.h.now().Sub(c.start).Milliseconds(), 0), 10))
	if !c.hasRL {
		return
	}
	v := &c.rl
	if v.rpm > 0 {
		set("X-Ratelimit-Remaining-Requests", strconv.FormatInt(v.remReq, 10))
		if !c.azure {
			set("X-Ratelimit-Limit-Requests", strconv.FormatInt(v.rpm, 10))
			set("X-Ratelimit-Reset-Requests", formatReset(v.resetReq))
		}
	}
	if v.tpm > 0 {
		set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(v.remTok, 10))
		if !c.azure {
			set("X-Ratelimit-Limit-Tokens", strconv.FormatInt(v.tpm, 10))
			set("X-Ratelimit-Reset-Tokens", formatReset(v.resetT))
		}
	}
}

func (c *call) requestID() string {
	var b [24]byte
	out := append(b[:0], "req_"...)
	return string(strconv.AppendUint(out, c.seq, 10))
}

// id returns prefix followed by the request's sequence number, such as
// "chatcmpl-42".
func (c *call) id(prefix string) string {
	return prefix + strconv.FormatUint(c.seq, 10)
}

// writeBody writes a complete answer.
func (c *call) writeBody(status int, contentType string, body []byte) {
	c.setHeaders(contentType, len(body))
	c.status = status
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// sleep waits d, reporting false when the client went away or the server
// closed first.
func (c *call) sleep(d time.Duration) bool {
	if d <= 0 {
		return c.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.r.Context().Done():
		return false
	case <-c.h.closing:
		abort()
		return false
	}
}

// abort cuts the connection (or resets the HTTP/2 stream) without a clean
// end of the answer, through net/http's documented http.ErrAbortHandler
// panic, which the server recovers from silently.
func abort() {
	panic(http.ErrAbortHandler)
}

// statusWriter records the status an InterceptFunc writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets a streaming InterceptFunc flush.
func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
