package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRetryScope pins the one retry rule: the router's own rule before it
// moved here (call.go retryable), the caller's faults first, then the
// upstream's x-should-retry header, then the class.
func TestRetryScope(t *testing.T) {
	never, elsewhere, anywhere := RetryNever, RetryElsewhere, RetryAnywhere
	tests := []struct {
		class              Class
		absent, yes, no    RetryScope // x-should-retry absent, true, false
		callerFault, trans bool
	}{
		{ClassUnknown, elsewhere, anywhere, never, false, false},
		{ClassRateLimited, anywhere, anywhere, never, false, true},
		{ClassQuotaExhausted, elsewhere, anywhere, never, false, false},
		{ClassContextWindow, never, never, never, true, false},
		{ClassContentPolicy, never, never, never, true, false},
		{ClassAuth, elsewhere, anywhere, never, false, false},
		{ClassNotFound, elsewhere, anywhere, never, false, false},
		{ClassBadRequest, never, never, never, true, false},
		{ClassTimeout, anywhere, anywhere, never, false, true},
		{ClassServer, anywhere, anywhere, never, false, true},
		{ClassConnection, anywhere, anywhere, never, false, true},
		{ClassCanceled, never, never, never, true, false},
		{ClassConflict, anywhere, anywhere, never, false, true},
		{Class(200), never, anywhere, never, false, false},
	}
	if len(tests) != len(classNames)+1 {
		t.Fatalf("the table covers %d classes, there are %d", len(tests)-1, len(classNames))
	}
	for _, tt := range tests {
		for _, c := range []struct {
			should int8
			want   RetryScope
		}{{0, tt.absent}, {1, tt.yes}, {-1, tt.no}} {
			e := &Error{Class: tt.class, ShouldRetry: c.should}
			if got := e.RetryScope(); got != c.want {
				t.Errorf("%v with x-should-retry %d: RetryScope %d, want %d", tt.class, c.should, got, c.want)
			}
		}
		if tt.class.CallerFault() != tt.callerFault || tt.class.transient() != tt.trans {
			t.Errorf("%v: CallerFault %v transient %v, want %v %v", tt.class, tt.class.CallerFault(), tt.class.transient(), tt.callerFault, tt.trans)
		}
	}
}

func TestClassOf(t *testing.T) {
	pe := &Error{Class: ClassContextWindow, StatusCode: 400}
	tests := []struct {
		err  error
		want Class
	}{
		{nil, ClassUnknown},
		{errors.New("x"), ClassUnknown},
		{pe, ClassContextWindow},
		{fmt.Errorf("router: %w", pe), ClassContextWindow},
		{fmt.Errorf("x: %w", ErrQuotaExhausted), ClassQuotaExhausted},
		{context.Canceled, ClassCanceled},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), ClassTimeout},
		// The *Error's class wins over its cause's.
		{&Error{Class: ClassConnection, Err: context.Canceled}, ClassConnection},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestSentinelsMatchOneClass pins what the docs promise: each sentinel
// matches its own class and no other, so ErrBadRequest is false for the
// context window and content policy 400s, which CallerFault covers.
func TestSentinelsMatchOneClass(t *testing.T) {
	sentinels := map[Class]error{
		ClassRateLimited: ErrRateLimited, ClassQuotaExhausted: ErrQuotaExhausted, ClassContextWindow: ErrContextWindow,
		ClassContentPolicy: ErrContentPolicy, ClassAuth: ErrAuth, ClassNotFound: ErrNotFound, ClassBadRequest: ErrBadRequest,
		ClassTimeout: ErrTimeout, ClassServer: ErrServer, ClassConnection: ErrConnection, ClassCanceled: ErrCanceled,
		ClassConflict: ErrConflict,
	}
	if len(sentinels) != len(classNames)-1 {
		t.Fatalf("%d sentinels for %d classes", len(sentinels), len(classNames)-1)
	}
	for c := range Class(len(classNames)) {
		err := fmt.Errorf("wrapped: %w", &Error{Class: c, StatusCode: 400})
		for sc, s := range sentinels {
			if errors.Is(err, s) != (sc == c) {
				t.Errorf("errors.Is(%v error, %v) = %v", c, s, !(sc == c))
			}
		}
		if ClassOf(sentinels[c]) != c && c != ClassUnknown {
			t.Errorf("ClassOf(%v) = %v", sentinels[c], ClassOf(sentinels[c]))
		}
	}
	if errors.Is(&Error{Class: ClassContextWindow}, ErrBadRequest) || !ClassContextWindow.CallerFault() {
		t.Error("a context window error matched ErrBadRequest, or is not the caller's fault")
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Class: ClassRateLimited, StatusCode: 429, Code: "rate_limit_exceeded", Message: "slow down",
		Deployment: "key-2", Err: errors.New("cause")}
	want := "provider: deployment key-2: rate_limited (status 429, code rate_limit_exceeded): slow down: cause"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if !strings.HasPrefix((&Error{Class: ClassTimeout}).Error(), "provider: timeout") {
		t.Error("a bare error does not name its class")
	}
	if Class(99).String() != "unknown" {
		t.Error("an out-of-range class has a name")
	}
}
