package router

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNoDeployment matches every *NoDeploymentError: a model group had
	// no deployment that could take the call.
	ErrNoDeployment = errors.New("router: no deployment available")
	// ErrAllCoolingDown matches a *NoDeploymentError whose deployments
	// were all cooling down (or waiting for a circuit-breaker probe); its
	// RetryAt says when the first comes back.
	ErrAllCoolingDown = errors.New("router: all deployments cooling down")
	// ErrUnknownModel is returned for a model that is neither a model group
	// nor an alias.
	ErrUnknownModel = errors.New("router: unknown model")
	// ErrUnknownDeployment is returned by RemoveDeployment and
	// UpdateDeployment for an ID the router does not have.
	ErrUnknownDeployment = errors.New("router: unknown deployment")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("router: closed")
	// ErrRetryBudget matches an *Error whose call was refused a retry by
	// the router's retry budget (Settings.RetryBudget): Error.BudgetRefused.
	ErrRetryBudget = errors.New("router: retry budget spent")
)

// Attempt records one upstream call made for a request.
type Attempt struct {
	// ModelGroup is the group the deployment belongs to: the requested
	// one, or a fallback group.
	ModelGroup string
	// Deployment is the deployment's ID.
	Deployment string
	// Err is the call's error, a *provider.Error naming the deployment; nil
	// for the call that succeeded.
	Err error
	// Class is Err's class, ClassUnknown on success.
	Class provider.Class
	// StatusCode is the upstream's HTTP status, 0 when none arrived.
	StatusCode int
	// Latency is the call's duration; for a stream that opened, the time to
	// its first event.
	Latency time.Duration
	// TTFT is a stream's time to first event, 0 otherwise.
	TTFT time.Duration
}

// NoDeploymentError says that no deployment of a model group could take a
// call, and why. It matches ErrNoDeployment, and ErrAllCoolingDown when
// every deployment was cooling down.
type NoDeploymentError struct {
	// ModelGroup is the group asked for.
	ModelGroup string
	// Deployments counts the group's deployments that serve the request's
	// tags.
	Deployments int
	// Reasons counts those deployments by why they were unavailable.
	// Deployments that failed earlier in the same call are counted under
	// Failed instead when they were otherwise available.
	Reasons map[deployment.Reason]int
	// Failed counts deployments left out because they already failed
	// during this call.
	Failed int
	// Tags are the request's tags, when any.
	Tags []string
	// RetryAt is when the first deployment held out by a cooldown or by an
	// exhausted rate-limit budget comes back; zero when unknown.
	RetryAt time.Time
	// RetryIn is RetryAt measured from when the error was made.
	RetryIn time.Duration
	// Causes says, for the deployments counted under cooldown or
	// breaker_open, which failure put each out and until when, as far as
	// this router saw it (a cooldown another replica set has none), in
	// configuration order.
	Causes []CooldownCause
}

// CooldownCause is the failure that put a deployment in cooldown: a 401
// that took the only deployment out for AuthCooldown, say, so that the
// caller told "no deployment available" learns why.
type CooldownCause struct {
	// Deployment is the deployment's ID.
	Deployment string
	// Class, StatusCode and Code are the failure's class, upstream HTTP
	// status (0 when none came) and upstream error code (such as
	// "invalid_api_key", empty when none was given).
	Class      provider.Class
	StatusCode int
	Code       string
	// At is when the failure was seen; Until when the cooldown it started
	// ends.
	At, Until time.Time
}

// String describes the cause, such as `deployment "key-1": authentication
// failed (401 invalid_api_key) at 2026-12-03T14:00:00Z, cooling down until
// 2026-12-03T14:10:00Z`.
func (c CooldownCause) String() string {
	var b strings.Builder
	b.WriteString("deployment ")
	b.WriteString(strconv.Quote(c.Deployment))
	b.WriteString(": ")
	b.WriteString(classFailure(c.Class))
	if c.StatusCode != 0 || c.Code != "" {
		b.WriteString(" (")
		if c.StatusCode != 0 {
			b.WriteString(strconv.Itoa(c.StatusCode))
			if c.Code != "" {
				b.WriteByte(' ')
			}
		}
		b.WriteString(truncate(c.Code, 60))
		b.WriteByte(')')
	}
	b.WriteString(" at ")
	b.WriteString(c.At.UTC().Format(time.RFC3339))
	b.WriteString(", cooling down until ")
	b.WriteString(c.Until.UTC().Format(time.RFC3339))
	return b.String()
}

// classFailure names a failure of class c in words.
func classFailure(c provider.Class) string {
	switch c {
	case provider.ClassAuth:
		return "authentication failed"
	case provider.ClassQuotaExhausted:
		return "quota exhausted"
	case provider.ClassRateLimited:
		return "rate limited"
	case provider.ClassTimeout:
		return "timed out"
	}
	return c.String()
}

// AuthFailed reports whether every deployment of the group is out because
// its last failure was an authentication failure (a 401 or 403 upstream):
// the gateway's upstream credentials are wrong, not the caller's request.
func (e *NoDeploymentError) AuthFailed() bool {
	if e.Deployments == 0 || len(e.Causes) != e.Deployments {
		return false
	}
	for _, c := range e.Causes {
		if c.Class != provider.ClassAuth {
			return false
		}
	}
	return true
}

// keepCause remembers why attempt a put deployment id in cooldown.
func (r *Router) keepCause(id string, a *attemptResult) {
	if a.err == nil || a.fx.Cooldown.IsZero() {
		return
	}
	r.causes.Store(id, &CooldownCause{
		Deployment: id, Class: a.err.Class, StatusCode: a.err.StatusCode, Code: a.err.Code,
		At: a.end, Until: a.fx.Cooldown,
	})
}

// causeOf returns why deployment id is cooling down at now, when this
// router saw the failure and the cooldown it started is still running.
func (r *Router) causeOf(id string, now time.Time) (CooldownCause, bool) {
	v, ok := r.causes.Load(id)
	if !ok {
		return CooldownCause{}, false
	}
	c := v.(*CooldownCause)
	if !c.Until.After(now) {
		return CooldownCause{}, false
	}
	return *c, true
}

// maxCausesInError caps the causes NoDeploymentError.Error lists.
const maxCausesInError = 5

// Error describes the group's state, such as
// `router: model group "gpt-4o": no deployment available: 3 deployments: 2 cooldown, 1 rpm_limit (first back in 4.2s)`.
func (e *NoDeploymentError) Error() string {
	var b strings.Builder
	b.WriteString("router: model group ")
	b.WriteString(strconv.Quote(e.ModelGroup))
	b.WriteString(": no deployment available")
	if len(e.Tags) > 0 {
		b.WriteString(" for tags ")
		b.WriteString(truncate(strings.Join(e.Tags, ","), 200))
	}
	if e.Deployments == 0 {
		b.WriteString(": no deployments")
		return b.String()
	}
	fmt.Fprintf(&b, ": %d deployment", e.Deployments)
	if e.Deployments != 1 {
		b.WriteByte('s')
	}
	reasons := make([]deployment.Reason, 0, len(e.Reasons))
	for r := range e.Reasons {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	sep := ": "
	for _, r := range reasons {
		fmt.Fprintf(&b, "%s%d %s", sep, e.Reasons[r], r)
		sep = ", "
	}
	if e.Failed > 0 {
		fmt.Fprintf(&b, "%s%d failed in this call", sep, e.Failed)
	}
	if !e.RetryAt.IsZero() {
		fmt.Fprintf(&b, " (first back in %s)", e.RetryIn.Round(time.Millisecond))
	}
	for i, c := range e.Causes {
		if i == maxCausesInError {
			fmt.Fprintf(&b, "; and %d more", len(e.Causes)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(c.String())
	}
	return b.String()
}

// AllCoolingDown reports whether every deployment was cooling down or
// waiting for a breaker probe.
func (e *NoDeploymentError) AllCoolingDown() bool {
	return e.Deployments > 0 &&
		e.Reasons[deployment.ReasonCooldown]+e.Reasons[deployment.ReasonBreakerOpen] == e.Deployments
}

// onlyContextWindow reports whether the prompt was too long for every
// deployment, which sends the call to context-window fallbacks.
func (e *NoDeploymentError) onlyContextWindow() bool {
	return e.Deployments > 0 && e.Reasons[deployment.ReasonContextWindow] == e.Deployments
}

// Is matches ErrNoDeployment, and ErrAllCoolingDown when AllCoolingDown.
func (e *NoDeploymentError) Is(target error) bool {
	return target == ErrNoDeployment || target == ErrAllCoolingDown && e.AllCoolingDown()
}

// Error is the error Do and Stream return when a call could not be served:
// it keeps every attempt, in order, and the cause that ended routing.
// errors.As reaches the last attempt's *provider.Error; errors.Is matches
// the class sentinels (provider.ErrRateLimited, ...) of that last error,
// and ErrNoDeployment / ErrAllCoolingDown when a model group had no
// deployment left.
type Error struct {
	// Model is the model the caller asked for.
	Model string
	// Attempts lists every upstream call made, in order.
	Attempts []Attempt
	// Unavailable lists the model groups that had no deployment left to
	// try, in the order met.
	Unavailable []*NoDeploymentError
	// Err is the cause that ended routing: the last attempt's error, a
	// *NoDeploymentError, an ErrUnknownModel error or the context's error.
	Err error
	// Retries and Fallbacks count, as Result's do, the retries within
	// groups and the fallback groups tried.
	Retries, Fallbacks int
	// RetriesSpent reports that the router did all its retry policy
	// allows for this call: the last group ended with an error that may be
	// retried, but its retries were used up, no deployment was left (or
	// worth waiting for), the call's deadline passed or the retry budget
	// refused. A client retrying at once would only add load; the HTTP
	// handler answers x-should-retry: false.
	RetriesSpent bool
	// BudgetRefused reports that the retry budget (Settings.RetryBudget)
	// refused the call a retry, so it failed at once with its last error.
	// errors.Is(err, ErrRetryBudget) reports the same.
	BudgetRefused bool
	// RetryAt is when the first deployment of the last group tried comes
	// back (the end of a cooldown, of an exhausted rate-limit budget or of
	// a server's retry-after), when known and later than the failure;
	// RetryIn is RetryAt measured from the failure.
	RetryAt time.Time
	RetryIn time.Duration
}

// Is matches ErrRetryBudget when the budget refused the call a retry.
func (e *Error) Is(target error) bool { return target == ErrRetryBudget && e.BudgetRefused }

// Error names the model, every attempt (group/deployment, class, status),
// the last attempt's error in full, and every group that had no deployment
// left, such as
//
//	router: model "gpt-4o": 2 attempts failed (gpt-4o/key-1: rate_limited 429; gpt-4o/key-2: server_error 500); last error: provider: deployment key-2: server_error (status 500): ...; model group "gpt-4o-mini": no deployment available: ...
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("router: model ")
	b.WriteString(strconv.Quote(truncate(e.Model, 100)))
	sep := ": "
	var last error
	if n := len(e.Attempts); n > 0 {
		fmt.Fprintf(&b, ": %d attempt", n)
		if n != 1 {
			b.WriteByte('s')
		}
		b.WriteString(" failed (")
		for i, a := range e.Attempts {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(a.ModelGroup)
			b.WriteByte('/')
			b.WriteString(a.Deployment)
			b.WriteString(": ")
			if a.Err == nil {
				b.WriteString("ok")
				continue
			}
			b.WriteString(a.Class.String())
			if a.StatusCode != 0 {
				b.WriteByte(' ')
				b.WriteString(strconv.Itoa(a.StatusCode))
			}
		}
		b.WriteByte(')')
		sep = "; "
		if last = e.Attempts[n-1].Err; last != nil {
			b.WriteString("; last error: ")
			b.WriteString(last.Error())
		}
	}
	if e.Err != nil && e.Err != last && !slices.ContainsFunc(e.Unavailable, func(u *NoDeploymentError) bool { return error(u) == e.Err }) {
		b.WriteString(sep)
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "router: "))
		sep = "; "
	}
	for _, u := range e.Unavailable {
		b.WriteString(sep)
		b.WriteString(strings.TrimPrefix(u.Error(), "router: "))
		sep = "; "
	}
	if e.BudgetRefused {
		b.WriteString(sep)
		b.WriteString("not retried: retry budget spent")
	}
	return b.String()
}

// Unwrap returns the final cause, the last attempt's error when it is not
// the cause, and the groups' *NoDeploymentError values.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2+len(e.Unavailable))
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if n := len(e.Attempts); n > 0 && e.Attempts[n-1].Err != nil && e.Attempts[n-1].Err != e.Err {
		errs = append(errs, e.Attempts[n-1].Err)
	}
	for _, u := range e.Unavailable {
		if u != e.Err {
			errs = append(errs, u)
		}
	}
	return errs
}

// RequestError is a caller's mistake found before any deployment was
// picked: no upstream call was made and no deployment's health changed. It
// names the field at fault, as OpenAI's own 400 answers do with "param".
// errors.Is matches provider.ErrBadRequest, and provider.ClassOf gives
// provider.ClassBadRequest; Do and Stream return it inside an *Error with
// no attempts.
type RequestError struct {
	// Field is the request field at fault: "model", "endpoint", "body",
	// "form", "stream" or "cache" (the body's cache object); "request" or
	// "context" for a nil request or context; for the typed calls of
	// router/typed, the params' field ("model", "file", "params").
	Field string
	// Msg says what is wrong with it.
	Msg string
	// Err is the underlying cause, such as a JSON syntax error.
	Err error
}

func requestErr(field, msg string, cause error) *RequestError {
	return &RequestError{Field: field, Msg: msg, Err: cause}
}

// Error returns "router: request: <field>: <msg>".
func (e *RequestError) Error() string {
	s := "router: request: " + e.Field + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns a *provider.Error of class ClassBadRequest with status 400
// and Field as its Param (the answer OpenAI gives such a request), so that
// code handling provider errors (an HTTP handler's status mapping,
// provider.ClassOf) treats a RequestError as the 400 it is.
func (e *RequestError) Unwrap() error {
	return &provider.Error{
		Class: provider.ClassBadRequest, StatusCode: http.StatusBadRequest, Type: "invalid_request_error",
		Param: e.Field, Message: e.Msg, Err: e.Err,
	}
}

// UnknownModelError says that a call named a model that is neither a model
// group nor an alias. It matches ErrUnknownModel.
type UnknownModelError struct {
	// Model is the name asked for.
	Model string
	// Known lists the model groups and aliases the router serves, sorted.
	Known []string
}

// maxKnownInError caps the names UnknownModelError.Error lists.
const maxKnownInError = 20

// Error names the model and the valid names, such as
// `router: unknown model "gpt-5" (known: gpt-4o, gpt-4o-mini)`.
func (e *UnknownModelError) Error() string {
	var b strings.Builder
	b.WriteString("router: unknown model ")
	b.WriteString(strconv.Quote(truncate(e.Model, 100)))
	if len(e.Known) > 0 {
		b.WriteString(" (known: ")
		for i, n := range e.Known {
			if i == maxKnownInError {
				fmt.Fprintf(&b, ", and %d more", len(e.Known)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Is matches ErrUnknownModel.
func (e *UnknownModelError) Is(target error) bool { return target == ErrUnknownModel }

// truncate shortens s to at most n bytes (on a rune boundary), marking the
// cut, so that a hostile name cannot fill a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
