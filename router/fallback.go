package router

import (
	"errors"
	"slices"

	"github.com/switchyard-go/switchyard/provider"
)

// fallbackPlan is the list of fallback groups chosen when the requested
// group failed, and the index of the next entry to consider.
type fallbackPlan struct {
	list []string
	next int
}

// fallbackPlan chooses the fallback list for a requested group that failed
// with err: ContextWindowFallbacks for a prompt too long for it,
// ContentPolicyFallbacks for content refused or filtered, none for the
// caller's own bad requests and cancellations, and Fallbacks (else
// DefaultFallbacks) for everything else.
func (s *settings) fallbackPlan(group string, err error) fallbackPlan {
	switch fallbackClass(err) {
	case provider.ClassContextWindow:
		return fallbackPlan{list: s.cwFallbacks[group]}
	case provider.ClassContentPolicy:
		return fallbackPlan{list: s.cpFallbacks[group]}
	case provider.ClassBadRequest, provider.ClassCanceled:
		return fallbackPlan{}
	}
	if l, ok := s.fallbacks[group]; ok {
		return fallbackPlan{list: l}
	}
	return fallbackPlan{list: s.defaultFallbacks}
}

// fallbackClass is the class of a group's final error that chooses its
// fallback list: a group whose every deployment was too small for the
// prompt failed as a context-window error even though no call was made.
func fallbackClass(err error) provider.Class {
	var nde *NoDeploymentError
	if errors.As(err, &nde) && nde.onlyContextWindow() {
		return provider.ClassContextWindow
	}
	return provider.ClassOf(err)
}

// fallbackInput is what decides whether a call moves on to a fallback
// group after a group failed.
type fallbackInput struct {
	class      provider.Class // fallbackClass of the group's error
	used, max  int            // fallback groups entered so far, and allowed
	disabled   bool           // WithoutFallbacks
	callerDone bool           // the caller's context ended
}

// mayFallBack reports whether a call may enter another fallback group: not
// when fallbacks are off or spent, the caller is gone, or the error is the
// caller's own bad request.
func mayFallBack(in fallbackInput) bool {
	switch {
	case in.disabled, in.callerDone, in.used >= in.max:
		return false
	case in.class == provider.ClassBadRequest, in.class == provider.ClassCanceled:
		return false
	}
	return true
}

// nextInPlan returns the index in p.list of the next group to try, the
// first at or after p.next that is known and not tried yet; -1 when none.
func nextInPlan(p fallbackPlan, tried []string, known func(string) bool) int {
	for i := p.next; i < len(p.list); i++ {
		if name := p.list[i]; known(name) && !slices.Contains(tried, name) {
			return i
		}
	}
	return -1
}

// fallbackStep is the next fallback group of a call and the plan index
// after it.
type fallbackStep struct {
	group *group
	after int
}

// nextFallback returns the group to try after a group failed with err,
// following plan, and whether there is one. It changes nothing.
func (c *call) nextFallback(plan fallbackPlan, err error) (fallbackStep, bool) {
	in := fallbackInput{
		class: fallbackClass(err), used: c.fallbacks, max: c.r.set.maxFallbacks,
		disabled: c.opts.noFallbacks, callerDone: c.ctx.Err() != nil,
	}
	if !mayFallBack(in) {
		return fallbackStep{}, false
	}
	i := nextInPlan(plan, c.groupsTried, func(name string) bool { return c.snap.groups[name] != nil })
	if i < 0 {
		return fallbackStep{}, false
	}
	return fallbackStep{group: c.snap.groups[plan.list[i]], after: i + 1}, true
}

// willFallBack reports whether the call will move on to a fallback group
// if g fails with err now: for the requested group, with the plan its
// error would choose.
func (c *call) willFallBack(g *group, err error) bool {
	plan := c.plan
	if len(c.groupsTried) == 1 {
		plan = c.r.set.fallbackPlan(g.name, err)
	}
	_, ok := c.nextFallback(plan, err)
	return ok
}
