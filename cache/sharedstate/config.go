package sharedstate

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// SyncMode says how a [Syncer] shares usage with the other replicas.
type SyncMode uint8

const (
	// SyncBatched (the default) keeps the hot path free of round trips.
	// For a deployment with an rpm or tpm limit, the replica leases a small
	// slice of the limit from the Store (at most 2% of it by default, sized
	// to about one lease per interval) and reserves from the lease locally;
	// the Store never hands out more than the limit, so replicas together
	// never exceed it, and an unused lease is given back when its window
	// ends. Counts without a limit, token corrections, snapshots, cooldowns
	// and in-flight counts are pushed, and the shared state read back, in
	// one pipelined round trip per interval. Staleness: what other replicas
	// did is seen within one interval (plus the Store's latency); a
	// cooldown is pushed at once.
	SyncBatched SyncMode = iota
	// SyncEveryRequest reserves each request to a deployment with a limit
	// in the Store (one Lua call, one round trip): exact across replicas,
	// at the cost of one round trip per request. Everything else (requests
	// to deployments without limits, token corrections, snapshots,
	// cooldowns, in-flight counts) is batched as in SyncBatched.
	SyncEveryRequest
)

// String returns "batched" or "every-request".
func (m SyncMode) String() string {
	if m == SyncEveryRequest {
		return "every-request"
	}
	return "batched"
}

// Defaults of a Syncer.
const (
	defaultInterval   = 100 * time.Millisecond
	defaultTimeout    = 50 * time.Millisecond
	defaultLeaseShare = 0.02
)

// Config configures a [Syncer]. Every zero field has the default its
// comment gives, so the zero Config is a batched Syncer with a 100 ms
// interval and a 50 ms timeout. A router wiring shared state
// (router.WithSharedState) sets Now, and Logger when nil, and replaces the
// three callbacks.
type Config struct {
	// Mode selects how usage is shared; the default is SyncBatched.
	Mode SyncMode
	// Interval is how often the background loop pushes local state and
	// refreshes shared state; nil means 100 ms. An explicit zero
	// (new(time.Duration(0))), or less, starts no background loop: the
	// caller calls [Syncer.Flush] itself.
	Interval *time.Duration
	// Timeout bounds every Store call made on behalf of a request; zero
	// means 50 ms. The background loop allows itself max(Timeout,
	// Interval).
	Timeout time.Duration
	// Window is the usage window length; zero means one minute (rpm, tpm).
	Window time.Duration
	// LeaseShare caps a batched lease at this fraction of the limit; zero
	// (or anything outside (0, 1]) means 0.02. Smaller leases waste less of
	// a limit at a window's end when replicas are uneven, larger ones need
	// fewer round trips.
	LeaseShare float64
	// Replicas says how many replicas share the limits. It is used only
	// while the Store is unreachable: each replica then allows itself
	// limit/Replicas per window, so that the fleet stays near the limit.
	// Zero means 1, which lets each replica use the whole limit during an
	// outage (availability first).
	Replicas int
	// ReplicaID names this replica in the shared in-flight counts; empty
	// means a random id.
	ReplicaID string
	// Now is the clock used for windows and cooldowns; nil means time.Now.
	Now func() time.Time
	// Logger logs a Store incident once when it starts and once when
	// sharing resumes; nil means slog.Default().
	Logger *slog.Logger
	// OnError, when set, is told when sharing stops (with the error) and
	// when it resumes (with nil), once per transition. It runs
	// synchronously on the goroutine that noticed, so it must not block.
	OnError func(err error)
	// OnCooldown, when set, is told about cooldowns set by other replicas
	// (a router applies them to its deployments). It runs on the background
	// goroutine and must not block.
	OnCooldown func(id string, c Cooldown)
	// OnSnapshot, when set, is told about rate-limit snapshots newer than
	// this replica's, observed by other replicas. It runs on the background
	// goroutine and must not block.
	OnSnapshot func(id string, s ratelimit.Snapshot)
}

// settings is a Config with its defaults applied.
type settings struct {
	Config
	interval time.Duration // zero: no background loop
	replicas int64
}

func (c Config) settings() settings {
	s := settings{Config: c, interval: defaultInterval, replicas: int64(max(c.Replicas, 1))}
	if c.Interval != nil {
		s.interval = max(*c.Interval, 0)
	}
	if s.Timeout <= 0 {
		s.Timeout = defaultTimeout
	}
	if s.Window <= 0 {
		s.Window = defaultWindow
	}
	if !(s.LeaseShare > 0 && s.LeaseShare <= 1) {
		s.LeaseShare = defaultLeaseShare
	}
	if s.ReplicaID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		s.ReplicaID = hex.EncodeToString(b[:])
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s
}
