package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/strategy"
)

// Result is a successful non-streaming call: the upstream's response and
// how the router got it.
type Result struct {
	// Response is the upstream's answer.
	*provider.Response
	// Header is the upstream's header with the router's own added:
	// X-Switchyard-Model-Group, X-Switchyard-Deployment,
	// X-Switchyard-Attempted-Retries and X-Switchyard-Attempted-Fallbacks.
	// It is the same map as Response.Header, which belongs to the caller.
	Header http.Header
	// ModelGroup and Deployment served the call.
	ModelGroup, Deployment string
	// Attempts lists every upstream call, in order; the last one succeeded.
	Attempts []Attempt
	// Retries counts attempts after the first within a model group;
	// Fallbacks counts the fallback groups tried.
	Retries, Fallbacks int
	// CacheHit reports an answer from the response cache (see
	// WithResponseCache): no deployment was called, so Deployment is empty
	// and Attempts is nil.
	CacheHit bool

	attemptBuf [1]Attempt
}

// tag modes: which deployments of a group serve a call.
const (
	tagAll     = iota // untagged call, no "default" deployment: all
	tagDefault        // deployments tagged "default"
	tagMatch          // deployments with one of the call's tags
)

// failure is a deployment left out for the rest of a call.
type failure struct {
	d *deployment.Deployment
	// retryAt is the earliest time to use d again (the server's
	// retry-after), zero when none was given.
	retryAt time.Time
	// permanent: never use d again in this call (auth, quota, not found).
	permanent bool
	// busy: d refused the attempt at Begin (a limit reached between the
	// pick and the call); reason says which.
	busy   bool
	reason deployment.Reason
}

// call is the state of one Do or Stream call. Calls are pooled.
type call struct {
	r      *Router
	st     *state
	ctx    context.Context
	req    *provider.Request
	model  string
	stream bool
	o      callOptions
	info   strategy.PickInfo
	start  time.Time
	// counted: the prompt's tokens are in info.PromptTokens.
	counted bool
	tagMode uint8

	retries, fallbacks int
	attempts           []Attempt
	attemptBuf         [2]Attempt
	failed             []failure
	failedBuf          [2]failure
	tried              []string
	triedBuf           [2]string
	unavailable        []*NoDeploymentError

	// The attempt that succeeded.
	group    *group
	dep      *deployment.Deployment
	resp     *provider.Response
	s        provider.Stream
	att      deployment.Attempt
	sh       sharedAttempt // with WithSharedState
	attStart time.Time
	ttft     time.Duration
	first    bool
	cancel   context.CancelCauseFunc
	retry    int // index of the successful attempt in its group
	fb       int // index of its group: 0 requested, n nth fallback

	// fbList is the fallback list chosen by the requested group's error;
	// fbNext the index of the next entry to consider.
	fbList []string
	fbNext int

	// lastStart, lastEnd and lastUsage describe the last attempt.
	lastStart time.Time
	lastEnd   time.Time
	lastUsage provider.Usage
}

func (r *Router) newCall(ctx context.Context, req *provider.Request, stream bool, opts []CallOption) *call {
	c := r.calls.Get().(*call)
	c.r = r
	c.ctx = ctx
	c.req = req
	c.stream = stream
	for _, o := range opts {
		if o != nil {
			o(&c.o)
		}
	}
	c.attempts = c.attemptBuf[:0]
	c.failed = c.failedBuf[:0]
	c.tried = c.triedBuf[:0]
	if r.hooks.OnRequest != nil {
		c.start = r.now()
	}
	c.info.Stream = stream
	if c.o.promptTokens > 0 {
		c.info.PromptTokens = c.o.promptTokens
		c.counted = true
	}
	return c
}

func (r *Router) freeCall(c *call) {
	*c = call{}
	r.calls.Put(c)
}

// prepare checks the call and loads the snapshot.
func (c *call) prepare() error {
	if c.req == nil {
		return errors.New("router: nil request")
	}
	if c.ctx == nil {
		return errors.New("router: nil context")
	}
	c.model = c.req.Model
	if c.r.closed.Load() {
		return ErrClosed
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if c.req.Stream != c.stream || c.o.header != nil {
		req := *c.req
		req.Stream = c.stream
		if c.o.header != nil {
			h := c.req.Header.Clone()
			if h == nil {
				h = make(http.Header, len(c.o.header))
			}
			for k, v := range c.o.header {
				h[k] = v
			}
			req.Header = h
		}
		c.req = &req
	}
	c.st = c.r.state.Load()
	return nil
}

// run routes the call: the requested group, then its fallbacks.
func (c *call) run() error {
	g := c.st.lookup(c.r.aliases, c.model)
	if g == nil {
		return fmt.Errorf("%w %q", ErrUnknownModel, c.model)
	}
	err := c.runGroup(g, 0)
	if err == nil || c.o.noFallbacks {
		return err
	}
	c.fbList = c.fallbackList(g, err)
	for {
		fg := c.nextFallback(err)
		if fg == nil {
			return err
		}
		c.fbNext++
		c.fallbacks++
		if err = c.runGroup(fg, c.fallbacks); err == nil {
			return nil
		}
	}
}

// nextFallback returns the next fallback group to try after a group failed
// with err, nil when there is none: the list is spent, MaxFallbacks groups
// were tried, the context ended, or err is the caller's fault. It moves
// c.fbNext past groups already tried or unknown.
func (c *call) nextFallback(err error) *group {
	if c.o.noFallbacks || c.fallbacks >= c.r.set.maxFallbacks || c.ctx.Err() != nil {
		return nil
	}
	if cl := fallbackClass(err); cl == provider.ClassBadRequest || cl == provider.ClassCanceled {
		return nil
	}
	for ; c.fbNext < len(c.fbList); c.fbNext++ {
		name := c.fbList[c.fbNext]
		if fg := c.st.groups[name]; fg != nil && !slices.Contains(c.tried, name) {
			return fg
		}
	}
	return nil
}

// fallbackClass is the class that chooses the fallback list for a group's
// final error.
func fallbackClass(err error) provider.Class {
	var nde *NoDeploymentError
	if errors.As(err, &nde) && nde.onlyContextWindow() {
		return provider.ClassContextWindow
	}
	return provider.ClassOf(err)
}

// fallbackList returns the groups to try after g failed with err.
func (c *call) fallbackList(g *group, err error) []string {
	s := c.r.set
	switch fallbackClass(err) {
	case provider.ClassContextWindow:
		return s.cwFallbacks[g.name]
	case provider.ClassContentPolicy:
		return s.cpFallbacks[g.name]
	case provider.ClassBadRequest, provider.ClassCanceled:
		return nil
	}
	if l, ok := s.fallbacks[g.name]; ok {
		return l
	}
	return s.defaultFallbacks
}

// willFallback reports whether run will try a fallback group after g
// fails with err.
func (c *call) willFallback(g *group, err error) bool {
	if len(c.tried) == 1 && !c.o.noFallbacks {
		// The requested group: its fallback list is not chosen yet.
		c.fbList, c.fbNext = c.fallbackList(g, err), 0
	}
	return c.nextFallback(err) != nil
}

// runGroup tries g until an attempt succeeds, an error may not be retried,
// the retry budget is spent or no deployment is left.
func (c *call) runGroup(g *group, fb int) error {
	c.tried = append(c.tried, g.name)
	c.setTagMode(g)
	c.countTokens(g)
	var (
		retry    int // retries used in this group
		attempts int // attempts made in this group
		lastErr  error
		waited   bool
	)
	for {
		if err := c.ctx.Err(); err != nil {
			return err // the attempts so far stay in c.attempts
		}
		d := c.pick(g)
		if d == nil {
			// Nothing available now. Wait once for a deployment to come
			// back when the retry budget allows, else give up.
			allowed := lastErr != nil || retry < c.baseLimit()
			if waited || !allowed {
				break
			}
			wait, ok := c.nextWait(g, retry, lastErr != nil)
			if !ok {
				break
			}
			c.forgetTransient()
			if err := c.r.sleep(c.ctx, wait); err != nil {
				return err
			}
			waited = true
			if lastErr == nil {
				retry++ // a wait before the first attempt uses one retry
			}
			continue
		}
		var (
			err  error
			busy bool
		)
		if c.stream {
			err, busy = c.tryStream(g, d)
		} else {
			err, busy = c.tryDo(g, d)
		}
		if busy {
			continue // d refused at Begin; it is left out until the next wait
		}
		waited = false
		if attempts > 0 {
			c.retries++
		}
		attempts++
		if err == nil {
			c.retry, c.fb = attempts-1, fb
			return nil
		}
		lastErr = err
		pe := err.(*provider.Error)
		can, same := retryable(pe)
		will := can && retry < c.limit(pe.Class) && c.ctx.Err() == nil
		if will {
			retry++
			f := failure{d: d, permanent: !same}
			if ra := pe.RetryAfter; ra > 0 && ra <= maxRetryAfter {
				f.retryAt = c.lastEnd.Add(ra)
			}
			c.failed = append(c.failed, f)
		}
		c.attemptHook(g, d, attempts-1, fb, will || c.willFallback(g, err))
		if !will {
			return err
		}
	}
	nde := c.noDeployment(g)
	c.unavailable = append(c.unavailable, nde)
	if lastErr != nil {
		return lastErr
	}
	return nde
}

// maxRetryAfter is the largest server retry hint honoured (as the OpenAI
// Python SDK does); longer hints fall back to backoff.
const maxRetryAfter = 60 * time.Second

// retryable is the router's retry policy for one failed attempt: whether
// to retry at all, and whether the same deployment may be used again
// (after every other has been tried and a wait).
//
// Retried: connection errors, timeouts, 408, 409, 429 and 5xx (the OpenAI
// SDKs' set), on any deployment; quota exhaustion, auth errors, 404 and
// unclassified errors only on another deployment. Never retried: the
// caller's errors (bad request, context window, content policy,
// cancellation), which go to fallbacks instead, and anything the upstream
// marked x-should-retry: false.
func retryable(pe *provider.Error) (retry, sameDeployment bool) {
	if pe.Class.CallerFault() || pe.ShouldRetry < 0 {
		return false, false
	}
	if pe.RetryScope() == provider.RetryAnywhere {
		return true, true
	}
	switch pe.Class {
	case provider.ClassQuotaExhausted, provider.ClassAuth, provider.ClassNotFound, provider.ClassUnknown:
		return true, false
	}
	return false, false
}

// limit is the number of retries allowed in a group for errors of class
// cl.
func (c *call) limit(cl provider.Class) int {
	if c.o.hasNumRetries {
		return c.o.numRetries
	}
	if n, ok := c.r.set.RetryPolicy[cl]; ok {
		return n
	}
	return c.r.set.numRetries
}

// baseLimit is the number of retries allowed in a group regardless of
// class: it bounds the waits for a group whose deployments are all out.
func (c *call) baseLimit() int {
	if c.o.hasNumRetries {
		return c.o.numRetries
	}
	return c.r.set.numRetries
}

// setTagMode decides which of g's deployments serve this call.
func (c *call) setTagMode(g *group) {
	switch {
	case len(c.o.tags) == 0:
		c.tagMode = tagAll
		if g.hasDefault {
			c.tagMode = tagDefault
		}
	case !g.tagged:
		c.tagMode = tagMatch // nothing matches; the NoDeploymentError says why
	default:
		c.tagMode = tagDefault
		for _, d := range g.deps {
			if hasAny(d.Config().Tags, c.o.tags) {
				c.tagMode = tagMatch
				break
			}
		}
	}
}

// serves reports whether d serves this call's tags.
func (c *call) serves(d *deployment.Deployment) bool {
	switch c.tagMode {
	case tagDefault:
		return slices.Contains(d.Config().Tags, "default")
	case tagMatch:
		return hasAny(d.Config().Tags, c.o.tags)
	}
	return true
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// countTokens counts the prompt once per call, when pre-call checks need it
// for g.
func (c *call) countTokens(g *group) {
	if c.counted || !c.r.set.EnablePreCallChecks || !g.windowKnown {
		return
	}
	c.counted = true
	c.info.PromptTokens = promptTokens(c.req, g.deps[0].Config().Model)
}

// excluded returns the index in c.failed of d, -1 when d has not failed.
func (c *call) excluded(d *deployment.Deployment) int {
	for i := range c.failed {
		if c.failed[i].d == d {
			return i
		}
	}
	return -1
}

// forgetTransient lets the deployments that failed with a retryable error
// (or were busy) back in, keeping the permanent exclusions.
func (c *call) forgetTransient() {
	n := 0
	for _, f := range c.failed {
		if f.permanent {
			c.failed[n] = f
			n++
		}
	}
	clear(c.failed[n:])
	c.failed = c.failed[:n]
}

// pick returns the deployment for the next attempt in g, nil when none is
// available. It allocates nothing: candidates go to a pooled buffer.
func (c *call) pick(g *group) *deployment.Deployment {
	now := c.r.now()
	bufp := c.r.cands.Get().(*[]*deployment.Deployment)
	cands := (*bufp)[:0]
	for _, d := range g.deps {
		if !c.serves(d) || c.excluded(d) >= 0 {
			continue
		}
		if d.Available(now, c.info.PromptTokens) != deployment.ReasonOK {
			continue
		}
		cands = append(cands, d)
	}
	var d *deployment.Deployment
	c.info.Now = now
	if len(cands) > 0 {
		low := strategy.LowestOrder(cands)
		i := c.r.strat.Pick(low, &c.info)
		if i < 0 || i >= len(low) {
			i = 0 // a strategy's bug must not crash the router
		}
		d = low[i]
	}
	clear(cands)
	*bufp = cands[:0]
	c.r.cands.Put(bufp)
	return d
}

// nextWait says how long to wait before g may have a deployment again, and
// whether waiting is worth it. After a failure the wait is an exponential
// backoff (0.5s·2^n, capped at 8s, up to 25% jitter subtracted); it is
// lengthened to the server's retry-after and to the earliest end of a
// cooldown, and to Settings.RetryAfter. A wait longer than
// Settings.MaxRetryWait or past the context's deadline is not worth it.
func (c *call) nextWait(g *group, retry int, failed bool) (time.Duration, bool) {
	now := c.r.now()
	var (
		earliest time.Time
		known    bool // some deployment comes back at a known time
		unknown  bool // some deployment is held by a limit of unknown end
	)
	for _, d := range g.deps {
		if !c.serves(d) {
			continue
		}
		i := c.excluded(d)
		if i >= 0 && c.failed[i].permanent {
			continue
		}
		var t time.Time
		switch d.Available(now, c.info.PromptTokens) {
		case deployment.ReasonOK:
			t = now
		case deployment.ReasonContextWindow:
			continue // never fits
		case deployment.ReasonCooldown, deployment.ReasonExhausted:
			// ReadyAt is the later of the cooldown's end and the reset of
			// an exhausted rate-limit budget, when known.
			if t = d.ReadyAt(); t.After(now) {
				break
			}
			fallthrough
		default:
			unknown = true
			continue
		}
		if i >= 0 && c.failed[i].retryAt.After(t) {
			t = c.failed[i].retryAt
		}
		if !known || t.Before(earliest) {
			earliest, known = t, true
		}
	}
	if !known && !unknown {
		return 0, false
	}
	var wait time.Duration
	if failed || !known {
		wait = c.backoff(max(retry-1, 0))
	}
	if known {
		wait = max(wait, earliest.Sub(now))
	}
	wait = max(wait, c.r.set.RetryAfter)
	if wait > c.r.set.MaxRetryWait {
		return 0, false
	}
	if dl, ok := c.ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
}

// noDeployment describes why g has no deployment for this call.
func (c *call) noDeployment(g *group) *NoDeploymentError {
	now := c.r.now()
	e := &NoDeploymentError{ModelGroup: g.name, Reasons: map[deployment.Reason]int{}, Tags: c.o.tags}
	for _, d := range g.deps {
		if !c.serves(d) {
			continue
		}
		e.Deployments++
		reason := d.Available(now, c.info.PromptTokens)
		if reason == deployment.ReasonOK {
			if i := c.excluded(d); i >= 0 && c.failed[i].busy {
				e.Reasons[c.failed[i].reason]++
			} else {
				e.Failed++
			}
			continue
		}
		e.Reasons[reason]++
		if reason == deployment.ReasonCooldown || reason == deployment.ReasonExhausted {
			if u := d.ReadyAt(); u.After(now) && (e.RetryAt.IsZero() || u.Before(e.RetryAt)) {
				e.RetryAt = u
			}
		}
	}
	if !e.RetryAt.IsZero() {
		e.RetryIn = e.RetryAt.Sub(now)
	}
	return e
}

// timeout is the bound of one attempt on d: the call's, else the
// deployment's, else the router's (stream timeouts first for streams).
func (c *call) timeout(d *deployment.Deployment) time.Duration {
	if c.o.timeout > 0 {
		return c.o.timeout
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

// begin starts an attempt on d; busy reports that d refused it.
func (c *call) begin(d *deployment.Deployment) (a deployment.Attempt, start time.Time, busy bool) {
	start = c.info.Now // set by pick a moment ago
	if c.r.shared != nil {
		if f, ok := c.reserveShared(d); !ok {
			if f.d != nil {
				c.failed = append(c.failed, f)
			}
			return a, start, true
		}
	}
	a, err := d.Begin(start, c.info.PromptTokens)
	if err != nil {
		c.sh.cancel()
		f := failure{d: d, busy: true, reason: deployment.ReasonParallel}
		var ue *deployment.UnavailableError
		if errors.As(err, &ue) {
			f.reason = ue.Reason
		}
		c.failed = append(c.failed, f)
		return a, start, true
	}
	return a, start, false
}

// tryDo makes one non-streaming attempt on d.
func (c *call) tryDo(g *group, d *deployment.Deployment) (err error, busy bool) {
	a, start, busy := c.begin(d)
	if busy {
		return nil, true
	}
	cooling := d.CooldownUntil()
	ctx, cancel := c.ctx, context.CancelFunc(nil)
	if t := c.timeout(d); t > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, t)
	}
	resp, err := d.Client().Do(ctx, c.req)
	if err == nil && resp == nil {
		err = &provider.Error{Class: provider.ClassConnection, Message: "client returned no response"}
	}
	end := c.r.now()
	var pe *provider.Error
	o := deployment.Outcome{Latency: end.Sub(start)}
	if err != nil {
		pe = c.normalize(err, d, ctx)
		o.Err, o.Header = pe, pe.Header
	} else {
		o.Usage, o.Header = resp.Usage, resp.Header
	}
	if cancel != nil {
		cancel()
	}
	a.End(end, o)
	if c.r.shared != nil {
		c.r.shared.end(&c.sh, d, o.Usage, cooling, end, pe)
	}
	if pe == nil && c.contentFiltered(g, resp) {
		pe = &provider.Error{
			Class: provider.ClassContentPolicy, StatusCode: resp.StatusCode, Code: "content_filter",
			Message: "finish_reason is content_filter", Deployment: d.ID(), Header: resp.Header,
		}
	}
	c.record(g, d, start, o.Latency, 0, pe, cooling, end)
	if pe != nil {
		return pe, false
	}
	c.group, c.dep, c.resp = g, d, resp
	c.lastUsage = resp.Usage
	return nil, false
}

// tryStream opens a stream on d and reads its first event, so that a
// failure before the caller sees anything can still be retried.
func (c *call) tryStream(g *group, d *deployment.Deployment) (err error, busy bool) {
	a, start, busy := c.begin(d)
	if busy {
		return nil, true
	}
	cooling := d.CooldownUntil()
	ctx := c.ctx
	var (
		cancel context.CancelCauseFunc
		timer  *time.Timer
	)
	if t := c.timeout(d); t > 0 {
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
	if timer != nil {
		timer.Stop()
	}
	end := c.r.now()
	if err != nil {
		pe := c.normalize(err, d, ctx)
		if s != nil {
			_ = s.Close()
		}
		if cancel != nil {
			cancel(nil)
		}
		lat := end.Sub(start)
		a.End(end, deployment.Outcome{Err: pe, Latency: lat, Stream: true, Header: pe.Header})
		if c.r.shared != nil {
			c.r.shared.end(&c.sh, d, provider.Usage{}, cooling, end, pe)
		}
		c.record(g, d, start, lat, 0, pe, cooling, end)
		return pe, false
	}
	var ttft time.Duration
	if first {
		ttft = end.Sub(start)
	}
	c.record(g, d, start, end.Sub(start), ttft, nil, cooling, end)
	c.sh.cooling = cooling
	c.group, c.dep, c.s, c.att, c.attStart, c.ttft, c.first, c.cancel = g, d, s, a, start, ttft, first, cancel
	return nil, false
}

// errFirstEventTimeout is the cause given to a stream's context when its
// first event did not come in time.
var errFirstEventTimeout = errors.New("router: stream timeout: no first event in time")

// normalize turns a client's error into a *provider.Error that names d,
// with the class the router acts on: ClassCanceled when the caller's
// context ended (not the deployment's fault), ClassTimeout when only the
// attempt's own timeout fired.
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
		pe.Class = provider.ClassCanceled
		if cerr := callerCtx.Err(); !errors.Is(pe, cerr) {
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

// record appends an attempt and logs it.
func (c *call) record(g *group, d *deployment.Deployment, start time.Time, lat, ttft time.Duration, pe *provider.Error, cooling, end time.Time) {
	a := Attempt{ModelGroup: g.name, Deployment: d.ID(), Latency: lat, TTFT: ttft}
	if pe != nil {
		a.Err, a.Class, a.StatusCode = pe, pe.Class, pe.StatusCode
	}
	c.attempts = append(c.attempts, a)
	c.lastStart, c.lastEnd = start, end
	log := c.r.log
	if log.Enabled(c.ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("model_group", g.name), slog.String("deployment", d.ID()),
			slog.Duration("latency", lat), slog.Bool("stream", c.stream),
		}
		if pe != nil {
			attrs = append(attrs, slog.String("class", pe.Class.String()), slog.Int("status", pe.StatusCode), slog.String("error", pe.Error()))
		}
		log.LogAttrs(c.ctx, slog.LevelDebug, "router: attempt", attrs...)
	}
	if u := d.CooldownUntil(); u.After(cooling) && u.After(end) && log.Enabled(c.ctx, slog.LevelWarn) && d.ClaimCooldownNotice(u) {
		attrs := []slog.Attr{
			slog.String("model_group", g.name), slog.String("deployment", d.ID()),
			slog.Time("until", u), slog.Duration("for", u.Sub(end)),
		}
		if pe != nil {
			attrs = append(attrs, slog.String("class", pe.Class.String()), slog.Int("status", pe.StatusCode))
		}
		log.LogAttrs(c.ctx, slog.LevelWarn, "router: deployment cooling down", attrs...)
	}
}

// attemptHook runs Hooks.OnAttempt for the last recorded attempt.
func (c *call) attemptHook(g *group, d *deployment.Deployment, retry, fb int, will bool) {
	h := c.r.hooks.OnAttempt
	if h == nil {
		return
	}
	a := &c.attempts[len(c.attempts)-1]
	info := AttemptInfo{
		Model: c.model, ModelGroup: g.name, Deployment: d.ID(), UpstreamModel: d.Config().Model,
		Endpoint: c.req.Endpoint, Stream: c.stream, Start: c.lastStart,
		Latency: a.Latency, TTFT: a.TTFT, Err: a.Err, Class: a.Class, StatusCode: a.StatusCode,
		Retry: retry, Fallback: fb, WillRetry: will,
	}
	if a.Err == nil {
		info.Usage = c.lastUsage
		info.Cost = cost(c.lastUsage, d.Config().Info.InputCostPerToken, d.Config().Info.OutputCostPerToken)
	}
	h(info)
}

// requestHook runs Hooks.OnRequest for a call that ended with err (nil on
// success).
func (c *call) requestHook(err error) {
	h := c.r.hooks.OnRequest
	if h == nil {
		return
	}
	info := RequestInfo{
		Model: c.model, Endpoint: c.req.Endpoint, Stream: c.stream,
		Start: c.start, Latency: c.r.now().Sub(c.start),
		Attempts: len(c.attempts), Retries: c.retries, Fallbacks: c.fallbacks, Err: err,
	}
	if err == nil {
		info.ModelGroup, info.Deployment = c.group.name, c.dep.ID()
		info.Usage = c.lastUsage
		info.Cost = cost(c.lastUsage, c.dep.Config().Info.InputCostPerToken, c.dep.Config().Info.OutputCostPerToken)
	}
	h(info)
}

// fail makes the error a failed call returns.
func (c *call) fail(cause error) *Error {
	e := &Error{Model: c.model, Err: cause, Unavailable: c.unavailable}
	if len(c.attempts) > 0 {
		e.Attempts = slices.Clone(c.attempts)
	}
	return e
}

// copyAttempts copies the attempts into buf (grown when needed).
func (c *call) copyAttempts(buf []Attempt) []Attempt {
	return append(buf[:0], c.attempts...)
}

// Do sends a non-streaming request to the model group (or alias) named by
// req.Model, retrying and falling back as configured. req is not modified
// and may be sent to several deployments in turn.
//
// On failure the error is an *Error that lists every attempt. With
// WithResponseCache the answer may come from the cache (Result.CacheHit).
func (r *Router) Do(ctx context.Context, req *provider.Request, opts ...CallOption) (*Result, error) {
	if r.rc != nil {
		return r.doCached(ctx, req, opts)
	}
	return r.do(ctx, req, opts)
}

// route prepares the call and runs it through its groups. On failure it
// reports the request to the hooks and returns the *Error that lists every
// attempt.
func (c *call) route() *Error {
	err := c.prepare()
	if err == nil {
		err = c.run()
	}
	if err == nil {
		return nil
	}
	e := c.fail(err)
	c.requestHook(e)
	return e
}

// do is Do without the response cache.
func (r *Router) do(ctx context.Context, req *provider.Request, opts []CallOption) (*Result, error) {
	c := r.newCall(ctx, req, false, opts)
	defer r.freeCall(c)
	if err := c.route(); err != nil {
		return nil, err
	}
	res := &Result{
		Response: c.resp, ModelGroup: c.group.name, Deployment: c.dep.ID(),
		Retries: c.retries, Fallbacks: c.fallbacks,
	}
	res.Attempts = c.copyAttempts(res.attemptBuf[:0])
	res.Header = annotate(c.resp.Header, c.group.name, c.dep.ID(), c.retries, c.fallbacks)
	c.attemptHook(c.group, c.dep, c.retry, c.fb, false)
	c.requestHook(nil)
	return res, nil
}

// backoff returns the n-th (from 0) retry delay: 0.5s·2^n capped at 8s,
// with up to 25% subtracted at random, as the OpenAI SDKs do.
func (c *call) backoff(n int) time.Duration {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(500*time.Millisecond),
		backoff.WithMultiplier(2),
		backoff.WithMaxInterval(8*time.Second),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxElapsedTime(0),
	)
	d := b.NextBackOff()
	for range min(n, 8) {
		d = b.NextBackOff()
	}
	return d - time.Duration(float64(d)*0.25*c.r.jitter.float64())
}
