package deployment

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// Deployment is one concrete upstream target and its live state. All methods
// are safe for concurrent use. The pick-path reads (InFlight, Latency, TTFT,
// Snapshot, Headroom, Available, CooldownUntil) are atomic loads: they take
// no lock and allocate nothing.
type Deployment struct {
	// immutable after New
	cfg    Config
	client provider.Client
	set    Settings

	inFlight      atomic.Int64
	cooldownUntil atomic.Int64 // unix nanoseconds; 0 = none
	snap          atomic.Pointer[ratelimit.Snapshot]
}

// New returns a deployment for cfg that sends its calls through client.
// cfg.ID defaults to DefaultID(cfg); zero fields of cfg.Info are filled from
// the model catalogue. It fails when cfg has no Model or has negative limits.
func New(cfg Config, client provider.Client, s Settings) (*Deployment, error) {
	if cfg.Model == "" {
		return nil, errors.New("deployment: config has no model")
	}
	if cfg.ID == "" {
		cfg.ID = DefaultID(cfg)
	}
	cfg.ExtraHeaders = cfg.ExtraHeaders.Clone()
	if cfg.ExtraHeaders == nil {
		cfg.ExtraHeaders = http.Header{}
	}
	d := &Deployment{cfg: cfg, client: client, set: s.withDefaults()}
	return d, nil
}

// ID returns the deployment's unique identifier.
func (d *Deployment) ID() string { return d.cfg.ID }

// Config returns the deployment's configuration. It must not be modified.
func (d *Deployment) Config() *Config { return &d.cfg }

// Client returns the client that sends this deployment's calls.
func (d *Deployment) Client() provider.Client { return d.client }

// InFlight returns the number of calls begun and not yet ended.
func (d *Deployment) InFlight() int64 { return d.inFlight.Load() }

// Latency returns the moving average of non-streaming call latency, 0 when
// never measured.
func (d *Deployment) Latency() time.Duration { return 0 }

// TTFT returns the moving average of streaming calls' time to first token,
// 0 when never measured.
func (d *Deployment) TTFT() time.Duration { return 0 }

// Snapshot returns the latest rate-limit snapshot read from this
// deployment's response headers, nil when none has been seen. The snapshot
// must not be modified.
func (d *Deployment) Snapshot() *ratelimit.Snapshot { return d.snap.Load() }

// Headroom returns the fraction, in [0, 1], of this deployment's rate-limit
// budget left at now; 1 when nothing is known.
func (d *Deployment) Headroom(now time.Time) float64 { return 1 }

// Available reports whether the deployment can take a request with
// promptTokens prompt tokens at now: ReasonOK, or why not.
func (d *Deployment) Available(now time.Time, promptTokens int) Reason {
	if now.UnixNano() < d.cooldownUntil.Load() {
		return ReasonCooldown
	}
	return ReasonOK
}

// CooldownUntil returns the end of the current cooldown, the zero Time when
// there has been none.
func (d *Deployment) CooldownUntil() time.Time {
	if n := d.cooldownUntil.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// SetCooldown takes the deployment out of rotation until until. It extends
// an active cooldown and never shortens one. reason is kept for logs.
func (d *Deployment) SetCooldown(until time.Time, reason string) {
	n := until.UnixNano()
	for {
		cur := d.cooldownUntil.Load()
		if n <= cur || d.cooldownUntil.CompareAndSwap(cur, n) {
			return
		}
	}
}
