package provider

// TEMPORARY (lead's stand-in until the provider branch lands with the real
// one): RetryScope as HELPERS.md specifies it.

// RetryScope says where a failed call may be retried.
type RetryScope uint8

// The retry scopes.
const (
	RetryNever     RetryScope = iota // the caller's fault, or x-should-retry: false
	RetryElsewhere                   // only on another deployment
	RetryAnywhere                    // on any deployment, the same one included
)

// RetryScope is the one retry rule.
func (e *Error) RetryScope() RetryScope {
	if e.Class.CallerFault() || e.ShouldRetry < 0 {
		return RetryNever
	}
	if e.Class.Retryable() || e.ShouldRetry > 0 {
		return RetryAnywhere
	}
	switch e.Class {
	case ClassQuotaExhausted, ClassAuth, ClassNotFound, ClassUnknown:
		return RetryElsewhere
	}
	return RetryNever
}
