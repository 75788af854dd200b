package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Class says what kind of failure an error is, in the terms the router acts
// on: whether to retry, on which deployment, whether to cool the deployment
// down and which fallback list applies.
type Class uint8

// The error classes.
const (
	ClassUnknown        Class = iota
	ClassRateLimited          // 429 rate_limit_exceeded: temporary, use another key now
	ClassQuotaExhausted       // insufficient_quota: billing exhausted, not retryable on the same key
	ClassContextWindow        // context_length_exceeded: prompt too long for this model
	ClassContentPolicy        // content policy violation / content_filter
	ClassAuth                 // 401 / 403: this key or deployment is not allowed
	ClassNotFound             // 404: model or deployment not found
	ClassBadRequest           // other 4xx caused by the caller's input
	ClassTimeout              // the upstream did not answer in time (408, deadlines)
	ClassServer               // 5xx from the upstream
	ClassConnection           // the upstream could not be reached, or sent garbage
	ClassCanceled             // the caller canceled the request
	ClassConflict             // 409: retryable conflict
)

var classNames = [...]string{
	"unknown", "rate_limited", "quota_exhausted", "context_window_exceeded", "content_policy",
	"auth", "not_found", "bad_request", "timeout", "server_error", "connection_error", "canceled", "conflict",
}

// String returns the class's snake_case name, as used in logs and metrics.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Retryable reports whether the official OpenAI SDKs' policy retries this
// class: connection errors, timeouts, 408, 409, 429 and 5xx. Quota
// exhaustion is a 429 that is not retryable on the same key (the router may
// still move to another deployment).
func (c Class) Retryable() bool {
	switch c {
	case ClassRateLimited, ClassTimeout, ClassServer, ClassConnection, ClassConflict:
		return true
	}
	return false
}

// CallerFault reports whether the class is caused by the caller's input
// rather than the deployment, so it must never count against a deployment's
// health: bad requests, context window and content policy errors, and
// cancellation by the caller.
func (c Class) CallerFault() bool {
	switch c {
	case ClassBadRequest, ClassContextWindow, ClassContentPolicy, ClassCanceled:
		return true
	}
	return false
}

// Sentinel errors, one per class, for errors.Is:
//
//	if errors.Is(err, provider.ErrRateLimited) { ... }
var (
	ErrRateLimited    = &classError{ClassRateLimited}
	ErrQuotaExhausted = &classError{ClassQuotaExhausted}
	ErrContextWindow  = &classError{ClassContextWindow}
	ErrContentPolicy  = &classError{ClassContentPolicy}
	ErrAuth           = &classError{ClassAuth}
	ErrNotFound       = &classError{ClassNotFound}
	ErrBadRequest     = &classError{ClassBadRequest}
	ErrTimeout        = &classError{ClassTimeout}
	ErrServer         = &classError{ClassServer}
	ErrConnection     = &classError{ClassConnection}
	ErrCanceled       = &classError{ClassCanceled}
	ErrConflict       = &classError{ClassConflict}
)

type classError struct{ c Class }

func (e *classError) Error() string { return "provider: " + e.c.String() }

// Error is a failed upstream call. It is the only error type a [Client]
// returns; use errors.As to read it and errors.Is with the ErrX sentinels to
// test its class.
type Error struct {
	// Class is the classification the router acts on.
	Class Class
	// StatusCode is the upstream's HTTP status, 0 when none was received.
	StatusCode int
	// Type, Code, Message and Param come from OpenAI's error body
	// {"error": {"message", "type", "param", "code"}}.
	Type, Code, Message, Param string
	// RequestID is the upstream's x-request-id, when sent.
	RequestID string
	// RetryAfter is the upstream's hint (retry-after-ms, then retry-after),
	// 0 when none was given.
	RetryAfter time.Duration
	// ShouldRetry holds the upstream's x-should-retry header when present:
	// +1 for true, -1 for false, 0 when absent.
	ShouldRetry int8
	// Deployment names the deployment that failed; set by the router.
	Deployment string
	// Header is the upstream's response header, if a response arrived.
	Header http.Header
	// Body is the raw error body (truncated to a few KiB).
	Body []byte
	// Err is the underlying cause (a network error, a context error, a
	// JSON syntax error), if any.
	Err error
}

// Error returns a one-line description naming the status, class, code and
// message, and the deployment when known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Deployment != "" {
		b.WriteString("deployment ")
		b.WriteString(e.Deployment)
		b.WriteString(": ")
	}
	b.WriteString(e.Class.String())
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (status %d", e.StatusCode)
		if e.Code != "" {
			b.WriteString(", code ")
			b.WriteString(e.Code)
		}
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the class sentinels (ErrRateLimited, ...).
func (e *Error) Is(target error) bool {
	if ce, ok := target.(*classError); ok {
		return ce.c == e.Class
	}
	return false
}

// Retryable reports whether the call may be retried: the upstream's
// x-should-retry header when present, else the class's rule.
func (e *Error) Retryable() bool {
	switch e.ShouldRetry {
	case 1:
		return true
	case -1:
		return false
	}
	return e.Class.Retryable()
}

// ClassOf returns the class of err: the Class of a wrapped *Error, the class
// of a wrapped sentinel, ClassCanceled for context.Canceled, ClassTimeout for
// context.DeadlineExceeded, and ClassUnknown otherwise.
func ClassOf(err error) Class {
	if err == nil {
		return ClassUnknown
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	var ce *classError
	if errors.As(err, &ce) {
		return ce.c
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	return ClassUnknown
}
