package deployment

import (
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

// Outcome is what happened to one call, reported to Attempt.End.
type Outcome struct {
	// Err is the call's error, nil on success.
	Err error
	// Latency is the time the call took (to the last byte for streams).
	Latency time.Duration
	// TTFT is a stream's time to first token.
	TTFT time.Duration
	// Stream reports whether the call was streaming.
	Stream bool
	// Usage is the token usage the upstream reported.
	Usage provider.Usage
	// Header is the upstream's response header (from a success or an
	// error), read for rate-limit information.
	Header http.Header
}

// Attempt is one call in progress on a deployment, made by Begin. End must
// be called exactly once. An Attempt is not safe for concurrent use.
type Attempt struct {
	d     *Deployment
	begun time.Time
	est   int
	ended bool
}

// Begin starts a call estimated at estTokens tokens at now: it reserves local
// rpm and tpm budget, counts the call in flight and passes breaker admission
// (a half-open deployment admits a single probe). When the deployment cannot
// take the call, the error is an *UnavailableError.
func (d *Deployment) Begin(now time.Time, estTokens int) (Attempt, error) {
	if r := d.Available(now, 0); r != ReasonOK {
		return Attempt{}, &UnavailableError{Deployment: d.cfg.ID, Reason: r}
	}
	d.inFlight.Add(1)
	return Attempt{d: d, begun: now, est: estTokens}, nil
}

// Deployment returns the deployment the attempt runs on, nil for the zero
// Attempt.
func (a *Attempt) Deployment() *Deployment { return a.d }

// End finishes the call with its outcome at now. Calls after the first, and
// calls on the zero Attempt, do nothing.
func (a *Attempt) End(now time.Time, o Outcome) {
	if a.d == nil || a.ended {
		return
	}
	a.ended = true
	a.d.inFlight.Add(-1)
}
