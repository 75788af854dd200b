package router

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// The retry and fallback decisions are pure functions of their inputs; these
// tables pin them down.

func TestDecideRetry(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          retryInput
		retry, same bool
	}{
		{"anywhere, budget left", retryInput{scope: provider.RetryAnywhere, used: 0, limit: 2}, true, true},
		{"elsewhere, budget left", retryInput{scope: provider.RetryElsewhere, used: 1, limit: 2}, true, false},
		{"never", retryInput{scope: provider.RetryNever, limit: 5}, false, false},
		{"budget spent", retryInput{scope: provider.RetryAnywhere, used: 2, limit: 2}, false, false},
		{"retries off", retryInput{scope: provider.RetryAnywhere, limit: 0}, false, false},
		{"caller gone", retryInput{scope: provider.RetryAnywhere, limit: 2, callerDone: true}, false, false},
	} {
		retry, same := decideRetry(tc.in)
		if retry != tc.retry || same != tc.same {
			t.Errorf("%s: decideRetry = %v, %v; want %v, %v", tc.name, retry, same, tc.retry, tc.same)
		}
	}
}

func TestRetryLimit(t *testing.T) {
	s := &settings{numRetries: 2, Settings: Settings{RetryPolicy: map[provider.Class]int{provider.ClassRateLimited: 5}}}
	three := 3
	for _, tc := range []struct {
		name     string
		o        callOptions
		cl       provider.Class
		perClass bool
		want     int
	}{
		{"default", callOptions{}, provider.ClassServer, true, 2},
		{"retry policy", callOptions{}, provider.ClassRateLimited, true, 5},
		{"retry policy ignored for waits", callOptions{}, provider.ClassRateLimited, false, 2},
		{"per call wins", callOptions{numRetries: &three}, provider.ClassRateLimited, true, 3},
	} {
		if got := retryLimit(s, &tc.o, tc.cl, tc.perClass); got != tc.want {
			t.Errorf("%s: retryLimit = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRetryWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := time.Second
	for _, tc := range []struct {
		name string
		in   waitInput
		want time.Duration
		ok   bool
	}{
		{"nothing can come back", waitInput{now: now, maxWait: 60 * s}, 0, false},
		{"backoff after a failure when one is available", waitInput{now: now, earliest: now, known: true, failed: true, backoff: s / 2, maxWait: 60 * s}, s / 2, true},
		{"no backoff before any failure", waitInput{now: now, earliest: now.Add(2 * s), known: true, backoff: s / 2, maxWait: 60 * s}, 2 * s, true},
		{"cooldown longer than backoff", waitInput{now: now, earliest: now.Add(3 * s), known: true, failed: true, backoff: s, maxWait: 60 * s}, 3 * s, true},
		{"unknown return: backoff", waitInput{now: now, unknown: true, backoff: s, maxWait: 60 * s}, s, true},
		{"minimum wait", waitInput{now: now, earliest: now, known: true, failed: true, backoff: s / 2, minWait: 2 * s, maxWait: 60 * s}, 2 * s, true},
		{"past MaxRetryWait", waitInput{now: now, earliest: now.Add(61 * s), known: true, maxWait: 60 * s}, 0, false},
		{"past the deadline", waitInput{now: now, earliest: now.Add(3 * s), known: true, maxWait: 60 * s, deadline: now.Add(2 * s), hasDeadline: true}, 0, false},
		{"within the deadline", waitInput{now: now, earliest: now.Add(s), known: true, maxWait: 60 * s, deadline: now.Add(2 * s), hasDeadline: true}, s, true},
	} {
		got, ok := retryWait(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: retryWait = %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFallbackPlan(t *testing.T) {
	s := &settings{
		fallbacks:        map[string][]string{"g": {"f1", "f2"}},
		cwFallbacks:      map[string][]string{"g": {"long"}},
		cpFallbacks:      map[string][]string{"g": {"safe"}},
		defaultFallbacks: []string{"d"},
	}
	cwNoDeployment := &NoDeploymentError{ModelGroup: "g", Deployments: 2, Reasons: map[deployment.Reason]int{deployment.ReasonContextWindow: 2}}
	for _, tc := range []struct {
		name  string
		group string
		err   error
		want  []string
	}{
		{"server error", "g", perr(provider.ClassServer, 500), []string{"f1", "f2"}},
		{"no entry: default", "h", perr(provider.ClassRateLimited, 429), []string{"d"}},
		{"context window", "g", perr(provider.ClassContextWindow, 400), []string{"long"}},
		{"too long for every deployment", "g", cwNoDeployment, []string{"long"}},
		{"content policy", "g", perr(provider.ClassContentPolicy, 400), []string{"safe"}},
		{"bad request", "g", perr(provider.ClassBadRequest, 400), nil},
		{"canceled", "g", &provider.Error{Class: provider.ClassCanceled}, nil},
		{"no deployment", "g", &NoDeploymentError{ModelGroup: "g"}, []string{"f1", "f2"}},
	} {
		if got := s.fallbackPlan(tc.group, tc.err).list; !slices.Equal(got, tc.want) {
			t.Errorf("%s: fallbacks %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMayFallBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   fallbackInput
		want bool
	}{
		{"server error", fallbackInput{class: provider.ClassServer, max: 5}, true},
		{"spent", fallbackInput{class: provider.ClassServer, used: 5, max: 5}, false},
		{"off", fallbackInput{class: provider.ClassServer, max: 5, disabled: true}, false},
		{"caller gone", fallbackInput{class: provider.ClassServer, max: 5, callerDone: true}, false},
		{"bad request", fallbackInput{class: provider.ClassBadRequest, max: 5}, false},
		{"context window", fallbackInput{class: provider.ClassContextWindow, max: 5}, true},
	} {
		if got := mayFallBack(tc.in); got != tc.want {
			t.Errorf("%s: mayFallBack = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNextInPlan(t *testing.T) {
	known := func(n string) bool { return n != "gone" }
	plan := fallbackPlan{list: []string{"a", "gone", "b", "c"}}
	for _, tc := range []struct {
		next  int
		tried []string
		want  int
	}{
		{0, nil, 0},
		{0, []string{"a"}, 2},
		{1, nil, 2},
		{3, []string{"c"}, -1},
		{4, nil, -1},
	} {
		plan.next = tc.next
		if got := nextInPlan(plan, tc.tried, known); got != tc.want {
			t.Errorf("next %d tried %v: %d, want %d", tc.next, tc.tried, got, tc.want)
		}
	}
}

func TestRequestErrorIsABadRequest(t *testing.T) {
	err := requestErr("model", "empty", nil)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Param != "model" || pe.Class != provider.ClassBadRequest {
		t.Errorf("errors.As gives %+v, want a bad request naming model", pe)
	}
}
