package sharedstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// Usage is a deployment's request and token usage over the trailing window,
// across every replica sharing the Store: the sliding-window estimate (see
// the package documentation). It is also used as an amount (a number of
// requests and tokens) in [Store.Lease] and [SyncOp].
type Usage struct {
	Requests int64
	Tokens   int64
}

// Limits are a deployment's per-window limits; zero means no limit.
type Limits struct {
	RPM int64 // requests per window
	TPM int64 // tokens per window
}

// Cooldown says that a deployment must not be used until Until.
type Cooldown struct {
	Until  time.Time
	Reason string
}

// SyncOp is one deployment's part of a [Store.Sync] call: what to push, and
// (filled in by Sync) what every replica has shared so far.
type SyncOp struct {
	// ID is the deployment id.
	ID string

	// Push. Zero values push nothing.

	// Incr adds to the usage of the window containing the Sync window's
	// At; IncrPrev to the window before it. Negative values give back
	// (unused leases, token estimates that were too high); stored counts
	// never go below zero.
	Incr, IncrPrev Usage
	// Snapshot, when HasSnapshot, is stored unless the shared one was
	// observed later.
	Snapshot    ratelimit.Snapshot
	HasSnapshot bool
	// Cooldown, when its Until is non-zero, is stored unless the shared one
	// ends later: cooldowns extend, never shorten.
	Cooldown Cooldown
	// Replica, when non-empty, publishes InFlight as this replica's current
	// number of requests in flight to the deployment. Each replica's count
	// expires 30 seconds after it was published (by the Sync window's At)
	// unless published again, so a replica that died stops counting.
	Replica  string
	InFlight int64

	// Result, filled in by Sync.

	// Usage is the shared usage after the increments.
	Usage Usage
	// SharedSnapshot is the newest snapshot any replica stored, if any
	// (HasSharedSnapshot).
	SharedSnapshot    ratelimit.Snapshot
	HasSharedSnapshot bool
	// SharedCooldown is the longest cooldown any replica stored; zero Until
	// when none.
	SharedCooldown Cooldown
	// SharedInFlight is the sum of every replica's fresh in-flight count,
	// this one's included.
	SharedInFlight int64
	// Err is set when this op failed; Sync then returns an error too. The
	// pushes of an op without Err were applied.
	Err error
}

// inFlightTTL is how long a replica's published in-flight count counts
// without being published again: a replica that died stops counting after
// it.
const inFlightTTL = 30 * time.Second

// Store holds the router state shared by every replica: exactly what a
// [Syncer] asks of it. Implementations must be safe for concurrent use and
// make each call atomic per deployment with respect to the others (Redis:
// one Lua script per deployment). Times come from the caller, in the
// [Window] of each call; a Store reads no clock of its own except where
// its backend keeps time (Redis key TTLs).
type Store interface {
	// Lease adds to deployment id's usage in window w as much of want as
	// fits under lim (zero: no limit), but at least min of each, else
	// nothing, atomically across replicas. It returns what it granted and
	// the usage after the call. A reservation of exactly one request is a
	// Lease with min equal to want; a batching replica leases a slice of a
	// shared limit to spend locally.
	Lease(ctx context.Context, id string, w Window, want, min Usage, lim Limits) (granted, u Usage, err error)
	// Sync applies every op's pushes and fills in its results, in one round
	// trip where the backend allows it. When it returns an error, the ops
	// whose Err is nil were applied and the others were not (a network
	// failure can leave that unknown: pushing again then counts usage twice,
	// which errs on the safe side). With no ops it checks that the Store
	// answers.
	Sync(ctx context.Context, w Window, ops []SyncOp) error
	// Take takes n requests (n < 0 gives -n back) from deployment id's
	// upstream request budget at w.At, atomically across replicas: the
	// token bucket that the newest rate-limit snapshot any replica stored
	// describes (see [Syncer.Reserve]). snap, when its ObservedAt is not
	// zero, is stored first unless a newer one is (as a [SyncOp]'s
	// Snapshot). The bucket starts at the newest snapshot's projection to
	// w.At, refills at its rate, counts every Take since, and falls to the
	// projection of each newer snapshot when that is lower (a snapshot does
	// not know the requests still in flight when it was observed, so it
	// never raises the bucket). ok is false when fewer than n are left;
	// wait is then how long until n are (negative: unknown). Without a
	// snapshot that says anything at w.At, every Take is granted.
	Take(ctx context.Context, id string, w Window, snap ratelimit.Snapshot, n int64) (ok bool, wait time.Duration, err error)
}

// ErrClosed is returned by a Syncer used after Close.
var ErrClosed = errors.New("sharedstate: closed")

// StoreError is a failure of the shared Store (Redis unreachable, timed
// out, a script error). The Syncer falls back to local state on it; it
// reaches the caller only through [Syncer.Flush], [Syncer.Err] and
// Config.OnError.
type StoreError struct {
	Op  string // "lease", "sync", "take"
	Err error
}

func (e *StoreError) Error() string { return fmt.Sprintf("sharedstate: store %s: %v", e.Op, e.Err) }

// Unwrap returns the underlying error.
func (e *StoreError) Unwrap() error { return e.Err }

// LimitError says a reservation did not fit a deployment's rpm or tpm
// limit. The router treats the deployment as unavailable for this request.
type LimitError struct {
	ID     string
	Limit  string // "rpm", "tpm", or "upstream" (the budget learned from the upstream's headers)
	Usage  Usage  // usage when the reservation was refused
	Limits Limits
	// RetryAfter is, for an "upstream" refusal, how long until one request
	// fits the upstream's budget again; zero when unknown.
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	if e.Limit == "upstream" {
		return fmt.Sprintf("sharedstate: deployment %q: upstream request budget used up across replicas (one more in %v)", e.ID, e.RetryAfter)
	}
	if e.Limit == "tpm" {
		return fmt.Sprintf("sharedstate: deployment %q at its tpm limit (%d/%d tokens)", e.ID, e.Usage.Tokens, e.Limits.TPM)
	}
	return fmt.Sprintf("sharedstate: deployment %q at its rpm limit (%d/%d requests)", e.ID, e.Usage.Requests, e.Limits.RPM)
}

// limitError builds the LimitError for a refused reservation of reqs and
// tokens at usage u.
func limitError(id string, u Usage, reqs, tokens int64, lim Limits) *LimitError {
	e := &LimitError{ID: id, Limit: "tpm", Usage: u, Limits: lim}
	if lim.RPM > 0 && u.Requests+reqs > lim.RPM {
		e.Limit = "rpm"
	}
	return e
}

// grant reports how much of want fits under lim at usage u.
func grant(u, want Usage, lim Limits) Usage {
	g := want
	if lim.RPM > 0 && u.Requests+g.Requests > lim.RPM {
		g.Requests = max(lim.RPM-u.Requests, 0)
	}
	if lim.TPM > 0 && u.Tokens+g.Tokens > lim.TPM {
		g.Tokens = max(lim.TPM-u.Tokens, 0)
	}
	return g
}
