package router

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// attemptResult is what one attempt on a deployment came to.
type attemptResult struct {
	// err is the attempt's error, a *provider.Error naming the
	// deployment, nil on success.
	err *provider.Error
	// busy: the deployment refused the attempt before any upstream call
	// (a limit reached since the pick); it is left out, and the attempt
	// is neither recorded nor reported.
	busy       bool
	start, end time.Time
	ttft       time.Duration // a stream's time to its first event
	status     int           // the upstream's HTTP status, 0 when none came
	usage      provider.Usage
	fx         deployment.Effects // what the attempt did to the deployment
	// budgetRefused: the retry budget refused the retry after it.
	budgetRefused bool
}

func (a *attemptResult) latency() time.Duration { return a.end.Sub(a.start) }

// try makes one attempt on d in g, records it and logs it. On success the
// answer (or the open stream) is in c.served.
func (c *call) try(g *group, d *deployment.Deployment) attemptResult {
	var a attemptResult
	if c.stream {
		a = c.tryStream(g, d)
	} else {
		a = c.tryDo(g, d)
	}
	if !a.busy {
		c.record(g, d, &a)
	}
	return a
}

// begin starts an attempt on d: a reservation across replicas (with
// WithSharedState) and the deployment's own admission. When d refuses, it
// is left out and ok is false.
func (c *call) begin(d *deployment.Deployment) (att deployment.Attempt, sh sharedAttempt, start time.Time, ok bool) {
	start = c.pick.Now // set by the pick a moment ago
	if c.r.shared != nil {
		var lo leftOut
		if sh, lo, ok = c.reserveShared(d); !ok {
			if lo.d != nil {
				c.leftOut = append(c.leftOut, lo)
			}
			return att, sh, start, false
		}
	}
	att, err := d.Begin(start, c.pick.PromptTokens)
	if err != nil {
		sh.cancel()
		lo := leftOut{d: d, busy: true, reason: deployment.ReasonParallel}
		var ue *deployment.UnavailableError
		if errors.As(err, &ue) {
			lo.reason = ue.Reason
		}
		c.leftOut = append(c.leftOut, lo)
		return att, sh, start, false
	}
	return att, sh, start, true
}

// attemptTimeout is the bound of one attempt on d (see ownTimeout), cut
// to what is left of the call's deadline (Settings.CallTimeout); 0 for
// none.
func (c *call) attemptTimeout(d *deployment.Deployment) time.Duration {
	t := c.ownTimeout(d)
	if !c.deadline.IsZero() {
		if left := max(time.Until(c.deadline), time.Nanosecond); t <= 0 || left < t {
			t = left
		}
	}
	if t == NoTimeout {
		return 0
	}
	return t
}

// ownTimeout is the bound of one attempt on d: the call's, else the
// deployment's, else the router's (stream timeouts first for streams).
func (c *call) ownTimeout(d *deployment.Deployment) time.Duration {
	if c.opts.timeout > 0 {
		return c.opts.timeout
	}
	cfg := d.Config()
	if c.stream {
		if cfg.StreamTimeout > 0 {
			return cfg.StreamTimeout
		}
		if c.r.set.StreamTimeout > 0 {
			return c.r.set.StreamTimeout
		}
	}
	if cfg.Timeout > 0 {
		return cfg.Timeout
	}
	return c.r.set.Timeout
}

// tryDo makes one non-streaming attempt on d.
func (c *call) tryDo(g *group, d *deployment.Deployment) (a attemptResult) {
	att, sh, start, ok := c.begin(d)
	if !ok {
		return attemptResult{busy: true}
	}
	a.start = start
	ctx, cancel := c.ctx, context.CancelFunc(nil)
	if t := c.attemptTimeout(d); t > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, t)
	}
	resp, err := d.Client().Do(ctx, c.attemptRequest(g))
	if err == nil && resp == nil {
		err = &provider.Error{Class: provider.ClassConnection, Message: "client returned no response"}
	}
	a.end = c.r.clock.Now()
	if err == nil && resp.Reader != nil { // ends when the body does: see passthrough.go
		return c.passOpen(g, d, att, sh, cancel, resp, a)
	}
	o := deployment.Outcome{Latency: a.latency()}
	if err != nil {
		a.err = c.normalize(err, d, ctx)
		o.Err, o.Header, o.CallerEnded = a.err, a.err.Header, c.ctx.Err() != nil
		a.status = a.err.StatusCode
	} else {
		o.Usage, o.Header = resp.Usage, resp.Header
		a.usage, a.status = resp.Usage, resp.StatusCode
	}
	if cancel != nil {
		cancel()
	}
	a.fx = att.End(a.end, o)
	c.r.shared.end(&sh, d, a.usage, a.fx, a.err)
	if a.err == nil && c.contentFiltered(g, resp) {
		a.err = &provider.Error{
			Class: provider.ClassContentPolicy, StatusCode: resp.StatusCode, Code: "content_filter",
			Message: "finish_reason is content_filter", Deployment: d.ID(), Header: resp.Header,
		}
	}
	if a.err == nil {
		c.served = served{liveAttempt: liveAttempt{group: g, dep: d, start: start}, status: a.status, usage: a.usage, resp: resp}
	}
	return a
}

// tryStream opens a stream on d and reads its first event, so that a
// failure before the caller sees anything can still be retried. The
// deployment attempt of a stream that opened ends when the stream does.
func (c *call) tryStream(g *group, d *deployment.Deployment) (a attemptResult) {
	att, sh, start, ok := c.begin(d)
	if !ok {
		return attemptResult{busy: true}
	}
	a.start = start
	ctx := c.ctx
	var (
		cancel context.CancelCauseFunc
		timer  *time.Timer
	)
	if t := c.attemptTimeout(d); t > 0 {
		ctx, cancel = context.WithCancelCause(c.ctx)
		timer = time.AfterFunc(t, func() { cancel(errFirstEventTimeout) })
	}
	s, err := d.Client().Stream(ctx, c.req)
	if err == nil && s == nil {
		err = &provider.Error{Class: provider.ClassConnection, Message: "client returned no stream"}
	}
	first := false
	if err == nil {
		if first = s.Next(); !first {
			err = s.Err()
		}
	}
	if timer != nil && !timer.Stop() && err == nil {
		// The first event came as the timeout fired: the stream's context
		// is canceled already, so it cannot be handed to the caller.
		err = &provider.Error{Class: provider.ClassTimeout, Err: errFirstEventTimeout}
	}
	a.end = c.r.clock.Now()
	if err != nil {
		a.err = c.normalize(err, d, ctx)
		a.status = a.err.StatusCode
		if s != nil {
			_ = s.Close()
		}
		if cancel != nil {
			cancel(nil)
		}
		a.fx = att.End(a.end, deployment.Outcome{
			Err: a.err, Latency: a.latency(), Stream: true, Header: a.err.Header, CallerEnded: c.ctx.Err() != nil,
		})
		c.r.shared.end(&sh, d, provider.Usage{}, a.fx, a.err)
		return a
	}
	if first {
		a.ttft = a.end.Sub(start)
	}
	a.status = http.StatusOK
	c.served = served{
		liveAttempt: liveAttempt{group: g, dep: d, start: start, ttft: a.ttft, attempt: att, shared: sh, cancel: cancel},
		status:      a.status, stream: s, firstRead: first,
	}
	return a
}

// errFirstEventTimeout is the cause given to a stream's context when its
// first event did not come in time.
var errFirstEventTimeout = errors.New("router: stream timeout: no first event in time")

// normalize turns a client's error into a *provider.Error that names d,
// with the class the router acts on: when the caller's context ended,
// ClassCanceled for a cancellation and ClassTimeout for its deadline (not
// the deployment's fault either way, and never retried); ClassTimeout when
// only the attempt's own timeout (actx) fired.
func (c *call) normalize(err error, d *deployment.Deployment, actx context.Context) *provider.Error {
	return normalizeErr(err, d, c.ctx, actx)
}

func normalizeErr(err error, d *deployment.Deployment, callerCtx, actx context.Context) *provider.Error {
	pe := new(provider.Error)
	var src *provider.Error
	if errors.As(err, &src) {
		*pe = *src
	} else {
		pe.Class, pe.Err = provider.ClassOf(err), err
	}
	pe.Deployment = d.ID()
	switch {
	case callerCtx.Err() != nil:
		cerr := callerCtx.Err()
		pe.Class = provider.ClassCanceled
		if errors.Is(cerr, context.DeadlineExceeded) {
			pe.Class = provider.ClassTimeout
		}
		if !errors.Is(pe, cerr) {
			pe.Err = errors.Join(pe.Err, cerr)
		}
	case actx != callerCtx && actx.Err() != nil:
		pe.Class = provider.ClassTimeout
		if cause := context.Cause(actx); !errors.Is(pe, cause) {
			pe.Err = errors.Join(pe.Err, cause)
		}
	}
	return pe
}

// record appends the attempt a on d to the call's attempts and logs it,
// and a cooldown it started.
func (c *call) record(g *group, d *deployment.Deployment, a *attemptResult) {
	rec := Attempt{ModelGroup: g.name, Deployment: d.ID(), Latency: a.latency(), TTFT: a.ttft, StatusCode: a.status}
	if a.err != nil {
		rec.Err, rec.Class = a.err, a.err.Class
	}
	c.attempts = append(c.attempts, rec)
	log := c.r.log
	if log.Enabled(c.ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("model_group", g.name), slog.String("deployment", d.ID()),
			slog.Duration("latency", rec.Latency), slog.Bool("stream", c.stream),
		}
		if a.err != nil {
			attrs = append(attrs, slog.String("class", a.err.Class.String()), slog.Int("status", a.err.StatusCode), slog.String("error", a.err.Error()))
		}
		log.LogAttrs(c.ctx, slog.LevelDebug, "router: attempt", attrs...)
	}
	if !announced(a.fx).IsZero() {
		c.r.logCooldown(c.ctx, g.name, d.ID(), a)
	}
}

// announced returns the end of the cooldown an attempt's effects should be
// announced for (logged, counted, shown to the hooks), zero for none: one
// it started, or one its trip of the breaker lengthened (a 401 during a
// 429's short throttle), once per incident either way.
func announced(fx deployment.Effects) time.Time {
	if fx.CooldownStarted || fx.Tripped {
		return fx.Cooldown
	}
	return time.Time{}
}

// logCooldown logs, once per incident, that attempt a put a deployment in
// cooldown, and keeps why for a NoDeploymentError.
func (r *Router) logCooldown(ctx context.Context, group, id string, a *attemptResult) {
	r.keepCause(id, a)
	if !r.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	attrs := []slog.Attr{
		slog.String("model_group", group), slog.String("deployment", id),
		slog.Time("until", a.fx.Cooldown), slog.Duration("for", a.fx.Cooldown.Sub(a.end)),
	}
	if a.err != nil {
		attrs = append(attrs, slog.String("class", a.err.Class.String()), slog.Int("status", a.err.StatusCode))
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "router: deployment cooling down", attrs...)
}
