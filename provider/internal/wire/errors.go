package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// MaxErrorBody is how much of an upstream error body a *provider.Error
// keeps.
const MaxErrorBody = 4 << 10

// ParseError builds the *provider.Error for an upstream answer that failed:
// an HTTP status of 400 or more, or an error object inside a successful
// answer (a 200 body or stream frame holding {"error": {...}}; pass its
// status, or 0). now reads a retry-after header holding an HTTP date.
//
// It reads OpenAI's error body {"error": {"message", "type", "param",
// "code"}} and the shapes OpenAI-compatible servers use instead ({"error":
// "text"}, {"detail": ...}, {"message", "type", "code"} at the top level, a
// numeric code). The header gives RequestID (x-request-id), RetryAfter
// (retry-after-ms, then retry-after in seconds or as an HTTP date) and
// ShouldRetry (x-should-retry). A body that is not JSON still gives a
// readable error: Message holds its first 200 bytes and Err the syntax
// error. Body keeps at most [MaxErrorBody] bytes, copied. The class is
// [Classify]'s.
func ParseError(status int, header http.Header, body []byte, now time.Time) *provider.Error {
	e := &provider.Error{StatusCode: status, Header: header}
	if len(body) > 0 {
		e.Body = bytes.Clone(body[:min(len(body), MaxErrorBody)])
	}
	if header != nil {
		e.RequestID = header.Get("X-Request-Id")
		if d, ok := ratelimit.ParseRetryAfter(header, now); ok {
			e.RetryAfter = d
		}
		switch strings.ToLower(strings.TrimSpace(header.Get("X-Should-Retry"))) {
		case "true":
			e.ShouldRetry = 1
		case "false":
			e.ShouldRetry = -1
		}
	}
	readErrorBody(e, body)
	e.Class = Classify(status, e.Type, e.Code, e.Message)
	return e
}

// errorObject is the union of the error shapes seen in the wild.
type errorObject struct {
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
}

type errorEnvelope struct {
	errorObject
	Error  json.RawMessage `json:"error"`
	Detail json.RawMessage `json:"detail"`
}

// readErrorBody fills e's Type, Code, Message and Param (and Err for a
// body that is not JSON).
func readErrorBody(e *provider.Error, body []byte) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		e.Message = http.StatusText(e.StatusCode)
		return
	}
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		e.Message = snippet(body)
		e.Err = fmt.Errorf("provider: error body is not a JSON object: %w", err)
		return
	}
	obj := env.errorObject
	if len(env.Error) > 0 && env.Error[0] == '{' {
		var inner errorObject
		if err := json.Unmarshal(env.Error, &inner); err == nil {
			obj = inner
		}
	} else if s := rawText(env.Error); s != "" {
		obj.Message = env.Error
	}
	e.Message = rawText(obj.Message)
	if e.Message == "" {
		// FastAPI-style servers (vLLM and friends): {"detail": "..."} or a
		// list of validation errors.
		e.Message = rawText(env.Detail)
	}
	if e.Message == "" {
		e.Message = snippet(body)
	}
	// A Responses event {"type": "error", ...} names its kind, not the error's.
	if t := rawText(obj.Type); t != "error" {
		e.Type = t
	}
	e.Param = rawText(obj.Param)
	e.Code = rawText(obj.Code)
}

// rawText returns a JSON string's value, a number's or other value's text,
// and "" for null or absent.
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return snippet(raw)
}

// snippet returns the first 200 bytes of b as valid, trimmed UTF-8.
func snippet(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
		// Do not cut a rune in two.
		for len(b) > 0 && !utf8.FullRune(b[max(0, len(b)-utf8.UTFMax):]) {
			b = b[:len(b)-1]
		}
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// TransportError wraps an error from sending a request or reading its
// answer (no usable HTTP response) in a *provider.Error: ClassCanceled for
// context.Canceled, ClassTimeout for context.DeadlineExceeded and network
// timeouts, ClassConnection for everything else (refused, reset, EOF, TLS
// failures). A *provider.Error is returned unchanged; nil gives nil.
func TransportError(err error) *provider.Error {
	if err == nil {
		return nil
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe
	}
	e := &provider.Error{Class: provider.ClassConnection, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		e.Class = provider.ClassCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Class = provider.ClassTimeout
	}
	return e
}
