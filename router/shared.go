package router

import (
	"context"
	"errors"
	"log/slog"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// WithSharedState shares the deployments' state with the other replicas of
// a service through store, usually a *sharedstate.RedisStore that every
// replica points at the same Redis (nil: a fresh sharedstate.NewMemoryStore,
// which shares nothing but runs the same code):
//
//   - each deployment's rpm and tpm limits hold across all replicas
//     together: before each attempt the router reserves the request with a
//     sharedstate.Syncer (in sharedstate.SyncBatched mode, the default,
//     from a small lease taken from the store, so most requests make no
//     round trip; in sharedstate.SyncEveryRequest mode with one Redis
//     call), and a deployment that is full across replicas is skipped like
//     one at a local limit;
//   - a cooldown decided by one replica, and the newest rate-limit headers
//     any replica read, reach the others within the Syncer's interval
//     (100 ms by default; a cooldown is pushed at once);
//   - while those headers say the upstream's request budget is nearly used
//     up, the replicas take each request from one shared count of it (one
//     store call per request), so that together they send no more than it
//     refills; a deployment whose budget is used up across replicas is
//     skipped as exhausted, and a call may wait until the next request
//     fits;
//   - usage and calls in flight are counted per deployment across replicas
//     (see [Router.SharedState], sharedstate.Syncer.Usage and InFlight).
//
// When the store is down, slow or flapping, no call waits for it longer
// than the Syncer's timeout (50 ms by default) and none fails because of
// it: the router goes on from its local state, the incident is logged once
// and reported once to [Hooks].OnSharedState, and sharing resumes when the
// store answers again.
//
// The router makes the sharedstate.Syncer over store and cfg when New
// succeeds and closes it on Close (giving unused leases back); it does not
// close store. It sets cfg.Now to the router's clock, and cfg.Logger to
// the router's logger when nil. It sets the OnCooldown, OnSnapshot and
// OnError callbacks itself: those in cfg are replaced (the router applies
// other replicas' cooldowns and snapshots to its deployments, and reports
// incidents to [Hooks].OnSharedState). Without this option (the default)
// nothing is shared and no call does any of this work.
func WithSharedState(store sharedstate.Store, cfg sharedstate.Config) Option {
	return func(r *Router) { r.shared = &shared{store: store, cfg: cfg} }
}

// SharedState returns the Syncer through which the router shares state, nil
// when none is configured. Use it to read shared usage and in-flight counts,
// to check Err (nil while the store answers), or to Flush by hand when the
// Syncer's background loop is off (sharedstate.Config.Interval set to
// new(time.Duration(0))).
func (r *Router) SharedState() *sharedstate.Syncer {
	if r.shared == nil {
		return nil
	}
	return r.shared.sy
}

// SharedStateEvent reports that shared state, or the response cache,
// stopped working (Err set) or works again (Err nil). Each is reported once
// per incident, not once per failed call.
type SharedStateEvent struct {
	// Component is "state" (the sharedstate.Store behind WithSharedState)
	// or "response-cache" (the respcache.Cache behind WithResponseCache).
	Component string
	// Err is the error that started the incident, nil when it is over.
	Err error
}

// Components of a SharedStateEvent.
const (
	ComponentState         = "state"
	ComponentResponseCache = "response-cache"
)

// shared links a router to its sharedstate.Syncer. A nil *shared means no
// shared state: every call site checks for nil first, so the default path
// costs a nil check.
type shared struct {
	// immutable after New
	store sharedstate.Store
	cfg   sharedstate.Config
	sy    *sharedstate.Syncer
}

// sharedAttempt is an attempt's reservation across replicas, settled when
// the attempt ends.
type sharedAttempt struct {
	res sharedstate.Reservation
}

// startShared makes the Syncer once New has the deployments, and tracks
// them.
func (r *Router) startShared() {
	sh := r.shared
	if sh == nil {
		return
	}
	cfg := sh.cfg
	cfg.Now = r.clock.Now
	if cfg.Logger == nil {
		cfg.Logger = r.log
	}
	cfg.OnCooldown = r.remoteCooldown
	cfg.OnSnapshot = r.remoteSnapshot
	cfg.OnError = func(err error) { r.sharedEvent(ComponentState, err) }
	sh.sy = sharedstate.NewSyncer(sh.store, cfg)
	for _, d := range r.state.Load().deps {
		sh.sy.Track(d.ID())
	}
}

// adopt starts sharing a deployment added or replaced on a live router,
// giving it what the replicas already know: a cooldown in force and the
// newest rate-limit snapshot.
func (sh *shared) adopt(d *deployment.Deployment) {
	if sh == nil {
		return
	}
	id := d.ID()
	sh.sy.Track(id)
	if c, ok := sh.sy.Cooldown(id); ok {
		d.SetCooldown(c.Until, c.Reason)
	}
	if s, ok := sh.sy.Snapshot(id); ok {
		d.ObserveSnapshot(s)
	}
}

// forget stops sharing a removed deployment.
func (sh *shared) forget(id string) {
	if sh != nil {
		sh.sy.Forget(id)
	}
}

// close closes the Syncer: leases go back, in-flight counts are withdrawn.
func (sh *shared) close() error {
	if sh == nil || sh.sy == nil {
		return nil
	}
	return sh.sy.Close()
}

// remoteCooldown applies a cooldown another replica decided.
func (r *Router) remoteCooldown(id string, c sharedstate.Cooldown) {
	d := r.state.Load().byID[id]
	if d == nil || !c.Until.After(d.CooldownUntil()) {
		return
	}
	d.SetCooldown(c.Until, c.Reason)
	if r.log.Enabled(context.Background(), slog.LevelInfo) {
		r.log.LogAttrs(context.Background(), slog.LevelInfo, "router: deployment cooling down (set by another replica)",
			slog.String("model_group", d.Config().ModelName), slog.String("deployment", id),
			slog.Time("until", c.Until), slog.String("reason", c.Reason))
	}
}

// remoteSnapshot applies rate-limit headers another replica read.
func (r *Router) remoteSnapshot(id string, s ratelimit.Snapshot) {
	if d := r.state.Load().byID[id]; d != nil {
		d.ObserveSnapshot(s)
	}
}

// sharedEvent reports an incident's start or end to the hook. The Syncer
// logs its own incidents; the response cache's are logged here.
func (r *Router) sharedEvent(component string, err error) {
	if h := r.hooks.OnSharedState; h != nil {
		h(SharedStateEvent{Component: component, Err: err})
	}
}

// reserveShared reserves an attempt on d across replicas. It reports false
// when d must be skipped: full across replicas (lo says why), or the
// context ended (lo is zero; the routing loop then ends with the context's
// error). Any other failure of the Syncer lets the attempt go on
// unshared: the Syncer already fell back to local state where it could.
func (c *call) reserveShared(d *deployment.Deployment) (sh sharedAttempt, lo leftOut, ok bool) {
	cfg := d.Config()
	res, err := c.r.shared.sy.Reserve(c.ctx, d.ID(), int64(c.pick.PromptTokens),
		sharedstate.Limits{RPM: int64(cfg.RPM), TPM: int64(cfg.TPM)})
	if err == nil {
		return sharedAttempt{res: res}, lo, true
	}
	if le := asLimitError(err); le != nil {
		lo = leftOut{d: d, busy: true, reason: deployment.ReasonRPM}
		switch le.Limit {
		case "tpm":
			lo.reason = deployment.ReasonTPM
		case "upstream":
			// The upstream's budget, counted across replicas, is used
			// up: d is exhausted for this call until one request fits,
			// which is when the call may wait for.
			lo.reason = deployment.ReasonExhausted
			if le.RetryAfter > 0 {
				lo.retryAt = c.pick.Now.Add(le.RetryAfter)
			}
		}
		return sh, lo, false
	}
	if c.ctx.Err() != nil {
		return sh, lo, false
	}
	return sh, lo, true
}

// asLimitError returns the *sharedstate.LimitError in err's chain, nil if
// none.
// It is apart, and not inlined, so that the errors.As target escapes only
// on this path.
//
//go:noinline
func asLimitError(err error) *sharedstate.LimitError {
	var le *sharedstate.LimitError
	if errors.As(err, &le) {
		return le
	}
	return nil
}

// end reports an attempt that was sent: the reservation is settled with
// the tokens used, and what the attempt did to the deployment (fx: a
// rate-limit snapshot it read, a cooldown it started or extended) is pushed
// to the other replicas. It does nothing without shared state.
func (sh *shared) end(a *sharedAttempt, d *deployment.Deployment, u provider.Usage, fx deployment.Effects, pe *provider.Error) {
	if sh == nil {
		return
	}
	used := int64(u.TotalTokens)
	if used == 0 {
		used = int64(u.PromptTokens + u.CompletionTokens)
	}
	if used == 0 {
		used = -1 // unknown: keep the estimate
	}
	a.res.Done(used)
	a.res = sharedstate.Reservation{}
	id := d.ID()
	if fx.Snapshot != nil {
		sh.sy.ObserveSnapshot(id, *fx.Snapshot)
	}
	if !fx.Cooldown.IsZero() {
		reason := "failures"
		if pe != nil {
			reason = pe.Class.String()
		}
		sh.sy.SetCooldown(id, fx.Cooldown, reason)
	}
}

// cancel gives back a reservation whose attempt was never sent.
func (a *sharedAttempt) cancel() {
	a.res.Cancel()
	a.res = sharedstate.Reservation{}
}
