package router

// The request path, top to bottom: Do and Stream make a call (this file),
// which tries the requested model group and then its fallbacks (this file,
// fallback.go); within a group each attempt picks a deployment (pick.go),
// runs on it (attempt.go) and, when it fails, the retry policy says whether
// and when to try again (retry.go). Hooks and logs report each attempt and
// the request (hooks.go).

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/strategy"
)

// Result is a successful non-streaming call: the upstream's response and
// how the router got it.
type Result struct {
	// Response is the upstream's answer. For a request with PassThrough
	// its body may be Response.Reader, to read to its end or Close: the
	// attempt is reported to the hooks then (see Router.Do).
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

// call is the state of one Do or Stream call, from its start to the
// attempt that served it. Calls are pooled; a call is used by one goroutine.
type call struct {
	// Set when the call is made.
	r      *Router
	ctx    context.Context
	req    *provider.Request // as sent upstream: see withHeader
	model  string            // the model the caller asked for
	stream bool
	opts   callOptions
	start  time.Time // when the call began (for OnRequest)
	// deadline is the call's own (Settings.CallTimeout) by the wall
	// clock, when earlier than the context's; zero otherwise.
	deadline time.Time

	// Set by prepare.
	snap *state
	// pick is what the strategy is told; pick.PromptTokens holds the
	// prompt's count once promptCounted.
	pick          strategy.PickInfo
	promptCounted bool

	// Progress over the whole call.
	attempts    []Attempt // every upstream call, in order
	attemptsBuf [2]Attempt
	retries     int      // attempts after the first within each group, summed
	fallbacks   int      // fallback groups entered
	groupsTried []string // model groups entered, in order
	groupsBuf   [2]string
	unavailable []*NoDeploymentError // groups left with no deployment
	plan        fallbackPlan         // chosen when the requested group fails
	lastGroup   *group               // the group entered last

	// The retry budget (budget.go): whether the call holds a retry token,
	// and whether the budget refused it one. hungRetried: a retry after
	// an attempt that hung was made. spent: the last group ended with an
	// error its retries could not get past (see Error.RetriesSpent).
	// retryPaid: the pending retry has spent from the budget's balance.
	retryToken, retryPaid, budgetRefused bool
	hungRetried, spent                   bool

	// Within the group being tried: which deployments serve the call's tags
	// and which are left out after failing or refusing in this call.
	serving    tagMode
	leftOut    []leftOut
	leftOutBuf [2]leftOut

	// served is the attempt that succeeded.
	served served
	// wholeReq is req without PassThrough, for groups that need the whole
	// answer (see passthrough.go).
	wholeReq *provider.Request
}

// served is the attempt that answered a call.
type served struct {
	liveAttempt
	status int
	usage  provider.Usage
	resp   *provider.Response // for Do
	// stream is the open stream (for Stream), its first event read when
	// firstRead.
	stream    provider.Stream
	firstRead bool
}

// liveAttempt is what a served attempt keeps until it ends: for a stream,
// until the stream does.
type liveAttempt struct {
	group *group
	dep   *deployment.Deployment
	// retry is its index among its group's attempts; fallback the index of
	// its group (0 the requested one, n the nth fallback).
	retry, fallback int
	start           time.Time
	ttft            time.Duration
	// For a stream: the deployment attempt and shared reservation still to
	// end, and the cancel of the stream's context.
	attempt deployment.Attempt
	shared  sharedAttempt
	cancel  context.CancelCauseFunc
}

// settle ends the deployment attempt of a live attempt (a stream, or a
// body passed through) with the outcome o and the result a: the
// deployment's health and limits, the shared reservation, the attempt's
// own context, the cooldown log. It sets a.fx and returns the attempt's
// cost.
func (r *Router) settle(ctx context.Context, sv *liveAttempt, a *attemptResult, o deployment.Outcome) float64 {
	if a.err != nil {
		o.Err = a.err
	}
	a.fx = sv.attempt.End(a.end, o)
	r.shared.end(&sv.shared, sv.dep, a.usage, a.fx, a.err)
	if sv.cancel != nil {
		sv.cancel(nil)
	}
	if !announced(a.fx).IsZero() {
		r.logCooldown(ctx, sv.group.name, sv.dep.ID(), a)
	}
	return cost(a.usage, sv.dep)
}

// info is the part of a live attempt's AttemptInfo that streams and
// passed-through bodies share.
func (sv *liveAttempt) info(model string, ep provider.Endpoint, md map[string]string, a *attemptResult, c float64, closed bool) AttemptInfo {
	info := AttemptInfo{
		Model: model, ModelGroup: sv.group.name, Deployment: sv.dep.ID(), UpstreamModel: sv.dep.Config().Model,
		Endpoint: ep, Metadata: md, Start: sv.start, Latency: a.latency(),
		Usage: a.usage, Cost: c, StatusCode: a.status, ClosedEarly: closed,
		Retry: sv.retry, Fallback: sv.fallback, Cooldown: announced(a.fx),
	}
	if a.err != nil {
		info.Err, info.Class = a.err, a.err.Class
	}
	return info
}

func (r *Router) newCall(ctx context.Context, req *provider.Request, stream bool, opts []CallOption) *call {
	c := r.calls.Get().(*call)
	c.r, c.ctx, c.req, c.stream = r, ctx, req, stream
	for _, o := range opts {
		if o != nil {
			o(&c.opts)
		}
	}
	c.attempts = c.attemptsBuf[:0]
	c.leftOut = c.leftOutBuf[:0]
	c.groupsTried = c.groupsBuf[:0]
	if r.hooks.OnRequest != nil {
		c.start = r.clock.Now()
	}
	c.pick.Stream = stream
	if c.opts.promptTokens > 0 {
		c.pick.PromptTokens = c.opts.promptTokens
		c.promptCounted = true
	}
	return c
}

func (r *Router) freeCall(c *call) {
	*c = call{}
	r.calls.Put(c)
}

// Do sends a non-streaming request to the model group (or alias) named by
// req.Model, retrying and falling back as configured. req is not modified
// and may be sent to several deployments in turn.
//
// On failure the error is an *Error that lists every attempt. A request the
// router can tell is wrong (no model, no endpoint, a body that is not a
// JSON object) fails with a *RequestError before any deployment is tried,
// an unknown model with an *UnknownModelError. With WithResponseCache the
// answer may come from the cache (Result.CacheHit).
//
// With req.PassThrough a large answer comes as Result.Reader, passed
// through from the upstream as the caller reads it instead of held whole,
// unless the response cache stores it or a content-policy fallback check
// needs it. The caller must read it to its end or Close it; a Reader
// dropped without either is closed when the garbage collector finds it
// (do not rely on it). Retries end when Do returns: a body that fails
// while it flows ends with an error from Read (a *provider.Error naming
// the deployment), and the attempt is reported to the hooks, with the
// usage read from the body, when the body ends.
func (r *Router) Do(ctx context.Context, req *provider.Request, opts ...CallOption) (*Result, error) {
	if r.rc != nil {
		return r.doCached(ctx, req, opts)
	}
	return r.do(ctx, req, opts)
}

// do is Do without the response cache.
func (r *Router) do(ctx context.Context, req *provider.Request, opts []CallOption) (*Result, error) {
	c := r.newCall(ctx, req, false, opts)
	defer r.freeCall(c)
	if err := c.route(); err != nil {
		return nil, err
	}
	s := &c.served
	res := &Result{
		Response: s.resp, ModelGroup: s.group.name, Deployment: s.dep.ID(),
		Retries: c.retries, Fallbacks: c.fallbacks,
	}
	res.Attempts = append(res.attemptBuf[:0], c.attempts...)
	res.Header = annotate(s.resp.Header, s.group.name, s.dep.ID(), c.retries, c.fallbacks)
	if c.passing() { // reported when the body ends: see passthrough.go
		c.passResult(res)
		return res, nil
	}
	c.requestHook(nil)
	return res, nil
}

// route runs the call: it checks the request, then tries the requested
// group and its fallbacks. On failure it reports the request to the hooks
// and returns the *Error that lists every attempt.
func (c *call) route() *Error {
	err := c.prepare()
	if err == nil {
		c.r.set.budget.enter()
		err = c.run()
		c.dropRetry()
		c.r.set.budget.leave()
	}
	if err == nil {
		return nil
	}
	e := &Error{
		Model: c.model, Err: err, Unavailable: c.unavailable, Retries: c.retries, Fallbacks: c.fallbacks,
		RetriesSpent: c.spent, BudgetRefused: c.budgetRefused,
	}
	e.RetryAt, e.RetryIn = c.retryAt()
	if len(c.attempts) > 0 {
		e.Attempts = slices.Clone(c.attempts)
	}
	c.requestHook(e)
	return e
}

// prepare rejects what no deployment should see (the caller's mistakes, a
// closed router, a context already done) and loads the deployments.
func (c *call) prepare() error {
	if c.ctx == nil {
		return requestErr("context", "nil context", nil)
	}
	if rerr := checkRequest(c.req, c.stream); rerr != nil {
		if c.req != nil {
			c.model = c.req.Model
		}
		return rerr
	}
	c.model = c.req.Model
	if rerr := checkHeaders(c.req.Header, c.opts.header); rerr != nil {
		return rerr
	}
	if c.r.closed.Load() {
		return ErrClosed
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	c.req = withHeader(c.req, c.stream, c.opts.header)
	c.snap = c.r.state.Load()
	if ct := c.r.set.CallTimeout; ct != NoTimeout {
		dl := time.Now().Add(ct)
		if cd, ok := c.ctx.Deadline(); !ok || dl.Before(cd) {
			c.deadline = dl
		}
	}
	return nil
}

// pastDeadline reports whether the call's own deadline has passed.
func (c *call) pastDeadline() bool {
	return !c.deadline.IsZero() && !time.Now().Before(c.deadline)
}

// retryAt says when the first deployment of the last group tried that
// could serve the call comes back, when that is known and later than now.
func (c *call) retryAt() (time.Time, time.Duration) {
	if c.lastGroup == nil {
		return time.Time{}, 0
	}
	now := c.r.clock.Now()
	if t, known, _ := c.earliestReturn(c.lastGroup, now); known && t.After(now) {
		return t, t.Sub(now)
	}
	return time.Time{}, 0
}

// run tries the requested group, then, when it fails, the fallback groups
// its error calls for, each with its own retries.
func (c *call) run() error {
	g := c.snap.lookup(c.r.aliases, c.model)
	if g == nil {
		return &UnknownModelError{Model: c.model, Known: slices.Clone(c.snap.known)}
	}
	err := c.runGroup(g, 0)
	if err == nil {
		return nil
	}
	c.plan = c.r.set.fallbackPlan(g.name, err)
	for {
		next, ok := c.nextFallback(c.plan, err)
		if !ok {
			return err
		}
		c.plan.next = next.after
		c.fallbacks++
		if err = c.runGroup(next.group, c.fallbacks); err == nil {
			return nil
		}
	}
}

// runGroup tries g until an attempt succeeds, an error may not be retried,
// the retries are spent or no deployment is left.
func (c *call) runGroup(g *group, fallback int) error {
	c.groupsTried = append(c.groupsTried, g.name)
	c.lastGroup, c.spent = g, false
	defer c.dropRetry() // a retry decided but never made
	c.setServing(g)
	c.countPrompt(g)
	var (
		retriesUsed int   // of this group's retries
		attempts    int   // made in this group
		lastErr     error // of the last attempt in this group
		waited      bool  // a wait came since the last attempt
	)
	for {
		if err := c.ctx.Err(); err != nil {
			return err // the attempts so far stay in c.attempts
		}
		d := c.pickDeployment(g)
		if d == nil {
			// Nothing available now. Wait once for a deployment to come
			// back when the retries allow it, else give up.
			if waited || (lastErr == nil && retriesUsed >= c.retryLimit(provider.ClassUnknown, false)) {
				break
			}
			wait, ok := c.waitFor(g, retriesUsed, lastErr != nil)
			if !ok || !c.takeRetry() { // the attempt after a wait is a retry
				break
			}
			c.pauseRetry() // a wait adds no load
			c.forgetTransient()
			if err := c.r.clock.Sleep(c.ctx, wait); err != nil {
				return err
			}
			if !c.takeRetry() {
				break
			}
			waited = true
			if lastErr == nil {
				retriesUsed++ // a wait before the first attempt uses one retry
			}
			continue
		}
		a := c.try(g, d)
		if a.busy {
			continue // d refused at Begin; it is left out until the next wait
		}
		c.dropRetry() // the retry, if this was one, ended
		waited = false
		if attempts > 0 {
			c.retries++
		}
		attempts++
		if a.err == nil {
			c.served.retry, c.served.fallback = attempts-1, fallback
			if !c.stream && !c.passing() { // a stream's (or body's) attempt is reported when it ends
				c.attemptHook(g, d, &a, attempts-1, fallback, false)
			}
			return nil
		}
		lastErr = a.err
		in := retryInput{
			scope:        a.err.RetryScope(),
			used:         retriesUsed,
			limit:        c.retryLimit(a.err.Class, true),
			callerDone:   c.ctx.Err() != nil,
			pastDeadline: c.pastDeadline(),
			hung:         hung(a.err),
			hungRetried:  c.hungRetried,
		}
		retry, again := decideRetry(in)
		if retry && !c.takeRetry() {
			retry, a.budgetRefused = false, true
		}
		if retry {
			retriesUsed++
			c.hungRetried = c.hungRetried || in.hung
			c.leaveOut(d, &a, again)
		}
		willRetry := retry || c.willFallBack(g, a.err)
		c.attemptHook(g, d, &a, attempts-1, fallback, willRetry)
		if !retry {
			// The group's retries could not get past a.err: spent, refused
			// by the budget, or out of time (not so for an error that is
			// never retried, or a caller that went away).
			c.spent = in.scope != provider.RetryNever && !in.callerDone
			return a.err
		}
	}
	c.spent = c.ctx.Err() == nil
	nde := c.noDeployment(g)
	c.unavailable = append(c.unavailable, nde)
	if lastErr != nil {
		return lastErr
	}
	return nde
}
