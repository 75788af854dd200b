package deployment

import "strconv"

// Reason says why a deployment cannot take a request now. The zero value,
// ReasonOK, means it can.
type Reason uint8

// The reasons, in the order Available checks them.
const (
	ReasonOK            Reason = iota
	ReasonCooldown             // cooling down after failures, a 429 with a reset, or SetCooldown
	ReasonBreakerOpen          // half-open and its single probe is in flight
	ReasonExhausted            // the upstream's rate-limit headers say nothing is left until the reset
	ReasonRPM                  // the configured requests-per-minute limit is reached
	ReasonTPM                  // the configured tokens-per-minute limit cannot fit this prompt
	ReasonParallel             // MaxParallelRequests calls are in flight
	ReasonContextWindow        // the prompt is larger than the model's context window
)

var reasonNames = [...]string{"ok", "cooldown", "breaker_open", "exhausted", "rpm_limit", "tpm_limit", "max_parallel_requests", "context_window"}

// String returns the reason's snake_case name, as used in logs and metrics.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// UnavailableError is returned by Begin when the deployment cannot take the
// request.
type UnavailableError struct {
	// Deployment is the deployment's ID.
	Deployment string
	// Reason says why.
	Reason Reason
}

// Error returns "deployment: <id> unavailable: <reason>".
func (e *UnavailableError) Error() string {
	return "deployment: " + e.Deployment + " unavailable: " + e.Reason.String()
}
