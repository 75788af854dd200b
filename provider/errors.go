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
//
// Each class has its sentinel (ErrRateLimited, ...), which errors.Is matches
// against exactly that class. Three classes are the caller's fault although
// they arrive as a 400 Bad Request: ClassContextWindow and
// ClassContentPolicy have their own sentinels, and errors.Is(err,
// ErrBadRequest) is false for them. To ask "is it the caller's fault?" use
// [Class.CallerFault], which covers all of them and cancellation.
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

// transient reports whether the official OpenAI SDKs' policy retries this
// class: connection errors, timeouts, 408, 409, 429 and 5xx. Quota
// exhaustion is a 429 that is not retryable on the same key.
func (c Class) transient() bool {
	switch c {
	case ClassRateLimited, ClassTimeout, ClassServer, ClassConnection, ClassConflict:
		return true
	}
	return false
}

// CallerFault reports whether the class is caused by the caller's input
// rather than the deployment, so it must never count against a deployment's
// health and is never retried: bad requests, context window and content
// policy errors, and cancellation by the caller.
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
//
// A sentinel matches its class only: ErrBadRequest does not match a
// context window or content policy error (ErrContextWindow,
// ErrContentPolicy), though all three are 400s; test
// ClassOf(err).CallerFault() for any mistake of the caller's.
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
// test its class. Each sentinel matches one class only, so errors.Is(err,
// ErrBadRequest) is false for the context window and content policy 400s;
// Class.CallerFault tells whether the caller is at fault, and RetryScope
// whether and where the call may be tried again.
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
	// +1 for true, -1 for false, 0 when absent. RetryScope honours it.
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

// RetryScope says whether a failed call may be tried again, and where.
type RetryScope uint8

// The retry scopes.
const (
	// RetryNever: the caller's mistake (Class.CallerFault), or an
	// upstream that said x-should-retry: false. Another deployment would
	// fail the same way; fallbacks to other models may still apply.
	RetryNever RetryScope = iota
	// RetryElsewhere: this deployment cannot serve the call (quota
	// exhausted, auth, not found, or an unclassified failure), another
	// one may.
	RetryElsewhere
	// RetryAnywhere: a transient failure (connection, timeout, 408, 409,
	// 429, 5xx) or x-should-retry: true; the same deployment may be tried
	// again after a wait.
	RetryAnywhere
)

// RetryScope is the retry rule for e: the upstream's x-should-retry header
// when it says false or true, else the class's rule (RetryNever for the
// caller's faults, RetryAnywhere for the transient classes the OpenAI SDKs
// retry, RetryElsewhere for quota, auth, not found and unknown). The
// caller's faults are never retried, whatever the header says.
func (e *Error) RetryScope() RetryScope {
	switch {
	case e.Class.CallerFault() || e.ShouldRetry < 0:
		return RetryNever
	case e.Class.transient() || e.ShouldRetry > 0:
		return RetryAnywhere
	}
	switch e.Class {
	case ClassQuotaExhausted, ClassAuth, ClassNotFound, ClassUnknown:
		return RetryElsewhere
	}
	return RetryNever
}

// ClassOf returns the class of err: the Class of a wrapped *Error, the class
// of a wrapped sentinel, ClassTimeout for context.DeadlineExceeded (a
// deadline passed), ClassCanceled for context.Canceled (someone gave up),
// and ClassUnknown otherwise (nil included).
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
