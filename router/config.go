package router

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// Config is what a Router is made from: the deployments (grouped into model
// groups by their ModelName), aliases between group names, and the routing
// settings. Field names follow LiteLLM's router settings so that a LiteLLM
// config translates one to one.
type Config struct {
	// Deployments are the upstream targets. Each belongs to the model group
	// named by its ModelName; a caller asks for the group (or an alias) and
	// the router picks one of the group's deployments. At least one is
	// required.
	Deployments []deployment.Config
	// Aliases maps an alias to a model group name or to another alias
	// (LiteLLM model_group_alias). Chains are resolved when the router is
	// made; cycles and unknown targets are errors.
	Aliases map[string]string
	// Settings tune routing, retries, fallbacks and cooldowns.
	Settings Settings
}

// Settings tune a Router. Every zero field has a documented default, so the
// zero Settings is ready to use: simple-shuffle routing, 2 retries per model
// group, no fallbacks.
type Settings struct {
	// RoutingStrategy names the strategy (LiteLLM routing_strategy):
	// simple-shuffle (default), least-busy, latency-based-routing,
	// usage-based-routing (alias usage-based-routing-v2),
	// cost-based-routing, or any name given to strategy.Register.
	RoutingStrategy string
	// RoutingStrategyArgs are the strategy's arguments (LiteLLM
	// routing_strategy_args).
	RoutingStrategyArgs map[string]any

	// NumRetries is how many times a failed call is retried within its
	// model group, on another deployment when one is healthy. nil means
	// DefaultNumRetries (2, as the official OpenAI SDKs do; LiteLLM's
	// router defaults to 0 but its SDK calls retry twice); new(0) turns
	// retries off.
	NumRetries *int
	// RetryPolicy overrides NumRetries for errors of one class (LiteLLM
	// retry_policy): RetryPolicy[provider.ClassRateLimited] = 5 retries rate
	// limits five times, RetryPolicy[provider.ClassServer] = 0 never retries
	// server errors. Errors caused by the caller (bad request, context
	// window, content policy, cancellation) are never retried, so a
	// positive entry for them is an error.
	RetryPolicy map[provider.Class]int
	// RetryAfter is the shortest wait before a retry that has to wait
	// (LiteLLM retry_after). Default 0. A retry that can go to another
	// healthy deployment never waits.
	RetryAfter time.Duration
	// MaxRetryWait is the longest the router waits before one retry: for a
	// server's retry-after hint, for backoff, or for the earliest cooldown
	// to end. A retry that would need a longer wait is not made: the call
	// fails (or falls back) at once, and the handler's answer says when a
	// deployment is back (retry-after). Default DefaultMaxRetryWait (2s);
	// NoTimeout leaves only the caller's deadline and CallTimeout.
	MaxRetryWait time.Duration
	// RetryBudget caps the retries in flight across the router, so that
	// an outage cannot multiply the load on the upstreams. The zero value
	// is the default budget (20% of the calls in flight, at least 3).
	RetryBudget RetryBudget

	// Timeout bounds one non-streaming attempt (LiteLLM timeout). A
	// deployment's own Timeout wins over it and a per-call WithTimeout
	// wins over both. Zero means DefaultTimeout (5 minutes: half of
	// DefaultCallTimeout, so that an attempt that hangs leaves time for
	// one retry elsewhere); NoTimeout leaves attempts bounded only by the
	// call's deadline and the client's own timeout.
	Timeout time.Duration
	// StreamTimeout bounds one streaming attempt until its first event
	// (time to first token, LiteLLM stream_timeout); after the first event
	// the stream runs as long as the caller's context allows. Precedence
	// as for Timeout; when no stream timeout is set anywhere, the
	// applicable Timeout is used.
	StreamTimeout time.Duration
	// CallTimeout bounds a whole call, every attempt, wait and fallback
	// included (for a stream, until it opens), when the caller's context
	// has no earlier deadline. Zero means DefaultCallTimeout (10 minutes,
	// LiteLLM's default request timeout); NoTimeout leaves only the
	// caller's context.
	CallTimeout time.Duration

	// Deployment tunes the health and latency tracking of every
	// deployment: AllowedFails (LiteLLM allowed_fails), CooldownTime
	// (LiteLLM cooldown_time; new(0) turns cooldowns off, as LiteLLM's 0
	// does), the failure window, auth and quota cooldowns, latency
	// averaging. A deployment's own Config.CooldownTime wins over
	// CooldownTime. See deployment.Settings for the defaults.
	Deployment deployment.Settings

	// Fallbacks maps a model group to the groups tried, in order, when it
	// fails with an error that is not the caller's fault (LiteLLM
	// fallbacks). Each fallback group gets its own retries.
	Fallbacks map[string][]string
	// ContextWindowFallbacks maps a model group to the groups tried when
	// the prompt is too long for it (LiteLLM context_window_fallbacks).
	ContextWindowFallbacks map[string][]string
	// ContentPolicyFallbacks maps a model group to the groups tried when
	// its answer is refused or filtered for content policy, including a
	// 200 chat completion whose finish_reason is content_filter (LiteLLM
	// content_policy_fallbacks).
	ContentPolicyFallbacks map[string][]string
	// DefaultFallbacks are tried for any group that has no entry in
	// Fallbacks (LiteLLM default_fallbacks).
	DefaultFallbacks []string
	// MaxFallbacks caps the fallback groups tried for one call. nil means
	// DefaultMaxFallbacks (5); new(0) turns fallbacks off.
	MaxFallbacks *int

	// EnablePreCallChecks drops, before picking, the deployments whose
	// context window is smaller than the prompt (LiteLLM
	// enable_pre_call_checks). The prompt is counted once per call, and
	// only when some deployment of the group knows its context window.
	EnablePreCallChecks bool

	// StreamResume turns on and tunes mid-stream recovery of chat streams
	// (LiteLLM enable_mid_stream_fallback_continuation): a stream that
	// breaks after part of the answer reached the caller is continued on
	// another deployment of its group. Off by default. See StreamResume.
	StreamResume StreamResume
}

// RetryBudget caps the retries in flight across a router, as Envoy's
// retry budget does: at any moment at most Ratio of the calls in flight
// may be retrying, and MinRetries retries are always allowed, so that a
// lone caller can still retry. A call refused by the budget fails at once
// with the last error it got, marked (Error.BudgetRefused, errors.Is
// ErrRetryBudget). A retry holds its place in the budget from the decision
// to retry (any wait included) to the end of its attempt. Fallback groups
// are not retries and are not held back; their retries are.
type RetryBudget struct {
	// Ratio is the fraction of the calls in flight that may be retrying
	// at once, in (0, 1]. Zero means DefaultRetryBudgetRatio (0.2).
	Ratio float64
	// MinRetries is how many retries may be in flight whatever the ratio
	// (Envoy min_retry_concurrency). nil means
	// DefaultRetryBudgetMinRetries (3); new(0) allows only the ratio.
	MinRetries *int
	// Disabled turns the budget off: every retry the policy allows is
	// made.
	Disabled bool
}

// Defaults of Settings.
const (
	DefaultNumRetries   = 2
	DefaultMaxFallbacks = 5
	// DefaultMaxRetryWait (2s) covers the backoff of the default two
	// retries (0.5s, 1s) and a short retry-after, and is shorter than a
	// default cooldown (5s): in an outage a call fails at once, saying
	// when a deployment is back, instead of sitting out cooldowns.
	DefaultMaxRetryWait = 2 * time.Second
	// DefaultTimeout bounds one attempt; DefaultCallTimeout a whole call
	// (LiteLLM's default request timeout is 600s).
	DefaultTimeout     = 5 * time.Minute
	DefaultCallTimeout = 10 * time.Minute
	// DefaultRetryBudgetRatio and DefaultRetryBudgetMinRetries are those
	// of Envoy's retry budget.
	DefaultRetryBudgetRatio      = 0.2
	DefaultRetryBudgetMinRetries = 3
)

// NoTimeout, as Settings.Timeout, StreamTimeout, CallTimeout or
// MaxRetryWait, turns that bound off.
const NoTimeout = time.Duration(math.MaxInt64)

// ConfigError reports an invalid Config, naming the field at fault.
type ConfigError struct {
	// Field is the path of the offending field, such as
	// "Deployments[2].ID" or "Settings.Fallbacks[gpt-4o]".
	Field string
	// Msg says what is wrong with it.
	Msg string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns "router: config: <field>: <msg>".
func (e *ConfigError) Error() string {
	s := "router: config: " + e.Field + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// settings is Settings validated, with defaults applied and every name
// resolved to a model group.
type settings struct {
	Settings
	numRetries   int
	maxFallbacks int
	// fallbacks lists by resolved group name.
	fallbacks, cwFallbacks, cpFallbacks map[string][]string
	defaultFallbacks                    []string
	// budget is the router's retry budget (made here, one per router).
	budget *retryBudget
}

// validateSettings checks s and applies defaults. groups is the set of
// model group names, aliases the resolved alias table.
func validateSettings(s Settings, groups map[string]bool, aliases map[string]string) (*settings, error) {
	out := &settings{Settings: s, numRetries: DefaultNumRetries, maxFallbacks: DefaultMaxFallbacks}
	if s.NumRetries != nil {
		if *s.NumRetries < 0 {
			return nil, configErr("Settings.NumRetries", "must not be negative, got %d", *s.NumRetries)
		}
		out.numRetries = *s.NumRetries
	}
	classes := make([]provider.Class, 0, len(s.RetryPolicy))
	for c := range s.RetryPolicy {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		n := s.RetryPolicy[c]
		field := "Settings.RetryPolicy[" + c.String() + "]"
		switch {
		case n < 0:
			return nil, configErr(field, "must not be negative, got %d", n)
		case n > 0 && c.CallerFault():
			return nil, configErr(field, "%s errors are the caller's and are never retried", c)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"Settings.RetryAfter", s.RetryAfter},
		{"Settings.MaxRetryWait", s.MaxRetryWait},
		{"Settings.Timeout", s.Timeout},
		{"Settings.StreamTimeout", s.StreamTimeout},
		{"Settings.CallTimeout", s.CallTimeout},
		{"Settings.Deployment.FailureWindow", s.Deployment.FailureWindow},
		{"Settings.Deployment.AuthCooldown", s.Deployment.AuthCooldown},
		{"Settings.Deployment.QuotaCooldown", s.Deployment.QuotaCooldown},
		{"Settings.Deployment.LatencyHalfLife", s.Deployment.LatencyHalfLife},
		{"Settings.Deployment.TimeoutPenalty", s.Deployment.TimeoutPenalty},
	} {
		if d.v < 0 {
			return nil, configErr(d.name, "must not be negative, got %s", d.v)
		}
	}
	if s.MaxRetryWait == 0 {
		out.MaxRetryWait = DefaultMaxRetryWait
	}
	if s.Timeout == 0 {
		out.Timeout = DefaultTimeout
	}
	if s.CallTimeout == 0 {
		out.CallTimeout = DefaultCallTimeout
	}
	if b := s.RetryBudget; !b.Disabled {
		if !(b.Ratio >= 0 && b.Ratio <= 1) { // NaN included
			return nil, configErr("Settings.RetryBudget.Ratio", "must be in (0, 1], got %g", b.Ratio)
		}
		if b.MinRetries != nil && *b.MinRetries < 0 {
			return nil, configErr("Settings.RetryBudget.MinRetries", "must not be negative, got %d", *b.MinRetries)
		}
	}
	out.budget = newRetryBudget(s.RetryBudget)
	if d := s.Deployment.CooldownTime; d != nil && *d < 0 {
		return nil, configErr("Settings.Deployment.CooldownTime", "must not be negative, got %s", *d)
	}
	if a := s.Deployment.LatencyAlpha; a < 0 || a > 1 {
		return nil, configErr("Settings.Deployment.LatencyAlpha", "must be in (0, 1], got %g", a)
	}
	if n := s.Deployment.AllowedFails; n != nil && *n < 0 {
		return nil, configErr("Settings.Deployment.AllowedFails", "must not be negative, got %d", *n)
	}
	if err := checkStreamResume(s.StreamResume); err != nil {
		return nil, err
	}
	if n := s.MaxFallbacks; n != nil {
		if *n < 0 {
			return nil, configErr("Settings.MaxFallbacks", "must not be negative, got %d", *n)
		}
		out.maxFallbacks = *n
	}

	resolve := func(field, name string) (string, error) {
		if groups[name] {
			return name, nil
		}
		if g, ok := aliases[name]; ok {
			return g, nil
		}
		return "", configErr(field, "unknown model group %q", name)
	}
	resolveList := func(field string, list []string) ([]string, error) {
		out := make([]string, 0, len(list))
		for i, name := range list {
			g, err := resolve(fmt.Sprintf("%s[%d]", field, i), name)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
		return out, nil
	}
	resolveMap := func(field string, m map[string][]string) (map[string][]string, error) {
		out := make(map[string][]string, len(m))
		for _, key := range sortedKeys(m) {
			kf := field + "[" + key + "]"
			g, err := resolve(kf, key)
			if err != nil {
				return nil, err
			}
			list, err := resolveList(kf, m[key])
			if err != nil {
				return nil, err
			}
			out[g] = append(out[g], list...)
		}
		return out, nil
	}
	var err error
	if out.fallbacks, err = resolveMap("Settings.Fallbacks", s.Fallbacks); err != nil {
		return nil, err
	}
	if out.cwFallbacks, err = resolveMap("Settings.ContextWindowFallbacks", s.ContextWindowFallbacks); err != nil {
		return nil, err
	}
	if out.cpFallbacks, err = resolveMap("Settings.ContentPolicyFallbacks", s.ContentPolicyFallbacks); err != nil {
		return nil, err
	}
	if out.defaultFallbacks, err = resolveList("Settings.DefaultFallbacks", s.DefaultFallbacks); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveAliases flattens alias chains to their model group. An alias that
// is also a group name, an alias to an unknown name and a cycle are errors.
func resolveAliases(aliases map[string]string, groups map[string]bool) (map[string]string, error) {
	out := make(map[string]string, len(aliases))
	for _, alias := range sortedKeys(aliases) {
		field := "Aliases[" + alias + "]"
		if alias == "" {
			return nil, configErr("Aliases", "empty alias name")
		}
		if groups[alias] {
			return nil, configErr(field, "alias %q is also a model group name", alias)
		}
		seen := []string{alias}
		name := aliases[alias]
		for {
			if groups[name] {
				out[alias] = name
				break
			}
			next, ok := aliases[name]
			if !ok {
				return nil, configErr(field, "unknown model group %q", name)
			}
			if slices.Contains(seen, name) {
				return nil, configErr(field, "alias cycle %s", strings.Join(append(seen, name), " -> "))
			}
			seen = append(seen, name)
			name = next
		}
	}
	return out, nil
}

// checkDeployment checks a deployment config as deployment.Config.Validate
// does, and that it names its model group; field names it in errors.
func checkDeployment(field string, c *deployment.Config) error {
	if c.ModelName == "" {
		return configErr(field+".ModelName", "empty model group name")
	}
	if err := c.Validate(); err != nil {
		var ce *deployment.ConfigError
		if errors.As(err, &ce) {
			return configErr(field+"."+ce.Field, "%s (deployment %q of model group %q)", ce.Msg, c.Model, c.ModelName)
		}
		return &ConfigError{Field: field, Msg: "invalid", Err: err}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
