package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// MaxErrorBody is how much of an upstream error body an [Error] keeps.
const MaxErrorBody = 4 << 10

// ParseError builds the *Error for an upstream answer that failed: an HTTP
// status of 400 or more, or an error object inside a successful answer (a
// 200 body or stream frame holding {"error": {...}}; pass its status, or 0).
//
// It reads OpenAI's error body {"error": {"message", "type", "param",
// "code"}} and the shapes OpenAI-compatible servers use instead ({"error":
// "text"}, {"detail": ...}, {"message", "type", "code"} at the top level, a
// numeric code). The header gives RequestID (x-request-id), RetryAfter
// (retry-after-ms, then retry-after in seconds or as an HTTP date) and
// ShouldRetry (x-should-retry). A body that is not JSON still gives a
// readable error: Message holds its first 200 bytes and Err the syntax
// error. Body keeps at most [MaxErrorBody] bytes, copied.
//
// The class follows the status, refined by the error's code, type and
// message:
//
//   - 429 with insufficient_quota: ClassQuotaExhausted; other 429: ClassRateLimited
//   - code context_length_exceeded, or a message such as "maximum context
//     length", "string too long", "too many tokens": ClassContextWindow
//   - content_policy_violation, content_filter, "content management
//     policy": ClassContentPolicy
//   - 401, 403: ClassAuth; 404: ClassNotFound; 408: ClassTimeout; 409:
//     ClassConflict; other 4xx: ClassBadRequest; 5xx: ClassServer
//   - an error inside a successful answer: by its code, else ClassServer.
func ParseError(status int, header http.Header, body []byte) *Error {
	return ParseErrorAt(status, header, body, time.Now())
}

// ParseErrorAt is [ParseError] with the current time given, for a
// retry-after header holding an HTTP date; clients with an injected clock
// use it.
func ParseErrorAt(status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{StatusCode: status, Header: header}
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
	numeric := readErrorBody(e, body)
	classStatus := status
	if (classStatus < 400 || classStatus > 599) && numeric >= 400 && numeric <= 599 {
		classStatus = numeric // {"error": {"code": 429, ...}} inside a 200 stream
	}
	e.Class = classify(classStatus, e.Type, e.Code, e.Message)
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

// readErrorBody fills e's Type, Code, Message, Param (and Err for a body
// that is not JSON) and returns a numeric code found in the body, or 0.
func readErrorBody(e *Error, body []byte) int {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		e.Message = http.StatusText(e.StatusCode)
		return 0
	}
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		e.Message = snippet(body)
		e.Err = fmt.Errorf("provider: error body is not a JSON object: %w", err)
		return 0
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
	if n, err := strconv.Atoi(e.Code); err == nil {
		return n
	}
	return 0
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

// classify maps a status and the error's code, type and message to a Class.
func classify(status int, typ, code, msg string) Class {
	is := func(s string) bool { return code == s || typ == s }
	switch status {
	case http.StatusTooManyRequests:
		if is("insufficient_quota") {
			return ClassQuotaExhausted
		}
		return ClassRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return ClassAuth
	case http.StatusNotFound:
		return ClassNotFound
	case http.StatusRequestTimeout:
		return ClassTimeout
	case http.StatusConflict:
		return ClassConflict
	}
	switch {
	case status >= 400 && status < 500:
		if c := classifyInput(typ, code, msg); c != ClassUnknown {
			return c
		}
		return ClassBadRequest
	case status >= 500:
		return ClassServer
	}
	// An error inside a successful answer: the code is all there is.
	if c := classifyInput(typ, code, msg); c != ClassUnknown {
		return c
	}
	switch {
	case is("insufficient_quota"):
		return ClassQuotaExhausted
	case is("rate_limit_exceeded") || is("rate_limit_error"):
		return ClassRateLimited
	case is("invalid_api_key") || is("authentication_error") || is("permission_denied"):
		return ClassAuth
	case is("model_not_found"):
		return ClassNotFound
	case is("invalid_request_error") || is("invalid_prompt"):
		return ClassBadRequest
	}
	return ClassServer
}

// classifyInput recognises the context window and content policy errors
// that arrive as a plain 400 (or with other 4xx statuses from
// OpenAI-compatible servers).
func classifyInput(typ, code, msg string) Class {
	is := func(s string) bool { return code == s || typ == s }
	switch {
	case is("context_length_exceeded") || is("string_above_max_length"):
		return ClassContextWindow
	case is("content_policy_violation") || is("content_filter"):
		return ClassContentPolicy
	case is("billing_hard_limit_reached"):
		return ClassQuotaExhausted
	}
	if msg == "" {
		return ClassUnknown
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "maximum context length"),
		strings.Contains(m, "context_length_exceeded"),
		strings.Contains(m, "context length"),
		strings.Contains(m, "string too long"),
		strings.Contains(m, "too many tokens"),
		strings.Contains(m, "prompt is too long"):
		return ClassContextWindow
	case strings.Contains(m, "content management policy"),
		strings.Contains(m, "content_policy_violation"),
		strings.Contains(m, "content_filter"):
		return ClassContentPolicy
	}
	return ClassUnknown
}

// TransportError wraps an error from sending a request or reading its
// answer (no usable HTTP response) in an *Error: ClassCanceled for
// context.Canceled, ClassTimeout for context.DeadlineExceeded and network
// timeouts, ClassConnection for everything else (refused, reset, EOF, TLS
// failures). An *Error is returned unchanged; nil gives nil.
func TransportError(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	e := &Error{Class: ClassConnection, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		e.Class = ClassCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Class = ClassTimeout
	}
	return e
}
