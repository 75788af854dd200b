package router

import (
	"slices"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// tagMode says which deployments of a group serve a call.
type tagMode uint8

const (
	tagAll     tagMode = iota // untagged call, no "default" deployment: all
	tagDefault                // deployments tagged "default"
	tagMatch                  // deployments with one of the call's tags
)

// leftOut is a deployment kept out of the rest of a call (until the next
// wait, unless permanent).
type leftOut struct {
	d *deployment.Deployment
	// retryAt is the earliest time to use d again (the server's
	// retry-after), zero when none was given.
	retryAt time.Time
	// permanent: never use d again in this call (auth, quota, not found).
	permanent bool
	// busy: d refused the attempt at Begin (a limit reached between the
	// pick and the call, or full across replicas); reason says which.
	busy   bool
	reason deployment.Reason
}

// setServing decides which of g's deployments serve this call's tags
// (WithTags): those with one of the tags; when none has any, those tagged
// "default"; a call without tags is served by the "default" ones when the
// group has any, else by all.
func (c *call) setServing(g *group) {
	switch {
	case len(c.opts.tags) == 0:
		c.serving = tagAll
		if g.hasDefault {
			c.serving = tagDefault
		}
	case !g.tagged:
		c.serving = tagMatch // nothing matches; the NoDeploymentError says why
	default:
		c.serving = tagDefault
		for _, d := range g.deps {
			if hasAny(d.Config().Tags, c.opts.tags) {
				c.serving = tagMatch
				break
			}
		}
	}
}

// serves reports whether d serves this call's tags.
func (c *call) serves(d *deployment.Deployment) bool {
	switch c.serving {
	case tagDefault:
		return slices.Contains(d.Config().Tags, "default")
	case tagMatch:
		return hasAny(d.Config().Tags, c.opts.tags)
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

// countPrompt counts the prompt once per call, when pre-call checks need
// it for g.
func (c *call) countPrompt(g *group) {
	if c.promptCounted || !c.r.set.EnablePreCallChecks || !g.windowKnown {
		return
	}
	c.promptCounted = true
	c.pick.PromptTokens = promptTokens(c.req, g.deps[0].Config().Model)
}

// leftOutIndex returns the index in c.leftOut of d, -1 when d is in.
func (c *call) leftOutIndex(d *deployment.Deployment) int {
	for i := range c.leftOut {
		if c.leftOut[i].d == d {
			return i
		}
	}
	return -1
}

// leaveOut keeps d out after its attempt a failed and is retried: until
// the next wait when it may be used again, else for the rest of the call.
func (c *call) leaveOut(d *deployment.Deployment, a *attemptResult, again bool) {
	lo := leftOut{d: d, permanent: !again}
	if ra := a.err.RetryAfter; ra > 0 && ra <= maxRetryAfter {
		lo.retryAt = a.end.Add(ra)
	}
	c.leftOut = append(c.leftOut, lo)
}

// forgetTransient lets the deployments left out after a retryable error
// (or a refusal) back in, keeping the permanent exclusions.
func (c *call) forgetTransient() {
	n := 0
	for _, lo := range c.leftOut {
		if lo.permanent {
			c.leftOut[n] = lo
			n++
		}
	}
	clear(c.leftOut[n:])
	c.leftOut = c.leftOut[:n]
}

// pickDeployment returns the deployment for the next attempt in g, nil
// when none is available: of the deployments that serve the call, are not
// left out and are available now, the strategy picks one among those of
// the lowest Order. It allocates nothing: candidates go to a pooled buffer.
//
// In a group larger than strategy.SampleAbove whose deployments share one
// Order, a strategy that implements strategy.Sampler samples the group
// instead (checking only the deployments it draws with c.Usable), so the
// pick costs the same at 1,000 deployments as at 40; when its draws find
// nothing usable, the exact scan below runs.
func (c *call) pickDeployment(g *group) *deployment.Deployment {
	now := c.r.clock.Now()
	if g.pool.Sampled() {
		if s, ok := c.r.strat.(strategy.Sampler); ok {
			c.pick.Now = now
			if i := s.Sample(g.pool, c, &c.pick); i >= 0 && i < len(g.deps) {
				return g.deps[i]
			}
		}
	}
	bufp := c.r.cands.Get().(*[]*deployment.Deployment)
	cands := (*bufp)[:0]
	for _, d := range g.deps {
		if !c.serves(d) || c.leftOutIndex(d) >= 0 {
			continue
		}
		if d.Available(now, c.pick.PromptTokens) != deployment.ReasonOK {
			continue
		}
		cands = append(cands, d)
	}
	var d *deployment.Deployment
	c.pick.Now = now
	if len(cands) > 0 {
		low := strategy.LowestOrder(cands)
		i := c.r.strat.Pick(low, &c.pick)
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

// Usable reports whether d may be picked for this call (strategy.Filter):
// it serves the call's tags, is not left out and is available at
// c.pick.Now.
func (c *call) Usable(d *deployment.Deployment) bool {
	return c.serves(d) && c.leftOutIndex(d) < 0 &&
		d.Available(c.pick.Now, c.pick.PromptTokens) == deployment.ReasonOK
}

var _ strategy.Filter = (*call)(nil)

// noDeployment describes why g has no deployment for this call.
func (c *call) noDeployment(g *group) *NoDeploymentError {
	now := c.r.clock.Now()
	e := &NoDeploymentError{ModelGroup: g.name, Reasons: map[deployment.Reason]int{}, Tags: c.opts.tags}
	for _, d := range g.deps {
		if !c.serves(d) {
			continue
		}
		e.Deployments++
		reason := d.Available(now, c.pick.PromptTokens)
		if reason == deployment.ReasonOK {
			if i := c.leftOutIndex(d); i >= 0 && c.leftOut[i].busy {
				e.Reasons[c.leftOut[i].reason]++
			} else {
				e.Failed++
			}
			continue
		}
		e.Reasons[reason]++
		if reason == deployment.ReasonCooldown || reason == deployment.ReasonBreakerOpen {
			if cause, ok := c.r.causeOf(d.ID(), now); ok {
				e.Causes = append(e.Causes, cause)
			}
		}
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
