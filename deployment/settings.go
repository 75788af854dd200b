package deployment

import "time"

// Settings tunes the health and latency tracking of a deployment, in the
// manner of gobreaker's Settings: every zero field has a documented default,
// so the zero Settings is ready to use. Where zero is itself a meaningful
// value (no failures allowed, no cooldown), the field is a pointer: nil
// means the default and new(0) means zero.
type Settings struct {
	// AllowedFails is how many failures within FailureWindow are tolerated:
	// one more puts the deployment in cooldown (LiteLLM allowed_fails).
	// nil means DefaultAllowedFails; new(0) cools it down on the first.
	AllowedFails *int
	// FailureWindow is the window in which failures are counted. Default 60s.
	FailureWindow time.Duration
	// CooldownTime is how long a deployment stays out after too many
	// failures (LiteLLM cooldown_time). nil means DefaultCooldownTime; a
	// deployment's own Config.CooldownTime wins when positive.
	//
	// new(0) turns cooldowns off, as LiteLLM's cooldown_time: 0 does: the
	// deployment stays in rotation whatever its failures, and neither
	// failures, 401/403 nor insufficient_quota cool it down or open its
	// breaker. A 429 that says when the limit resets still keeps the key out
	// until then: that is the upstream's answer, not a judgement of health.
	CooldownTime *time.Duration
	// AuthCooldown is how long a deployment stays out after a 401 or 403.
	// Default 10m.
	AuthCooldown time.Duration
	// QuotaCooldown is how long a deployment stays out after an
	// insufficient_quota error. Default 1h.
	QuotaCooldown time.Duration
	// LatencyAlpha is the weight of a new sample in the latency and
	// time-to-first-token moving averages, in (0, 1]. Default 0.3.
	LatencyAlpha float64
	// LatencyHalfLife is how fast the latency averages forget: the weight of
	// the old average halves for every LatencyHalfLife without a sample, so
	// that a sample after a quiet spell mostly replaces it. Default 5s.
	LatencyHalfLife time.Duration
	// TimeoutPenalty is the latency sample recorded for a call that timed
	// out. Default: the larger of 3 times the current average and 10s.
	TimeoutPenalty time.Duration
}

// Defaults of Settings.
const (
	DefaultAllowedFails    = 3
	DefaultFailureWindow   = 60 * time.Second
	DefaultCooldownTime    = 5 * time.Second
	DefaultAuthCooldown    = 10 * time.Minute
	DefaultQuotaCooldown   = time.Hour
	DefaultLatencyAlpha    = 0.3
	DefaultLatencyHalfLife = 5 * time.Second
	// minTimeoutPenalty is the smallest sample a timeout adds.
	minTimeoutPenalty = 10 * time.Second
)

// health is Settings resolved: every default applied, no pointers.
type health struct {
	allowedFails     int
	failureWindow    time.Duration
	cooldownTime     time.Duration
	disableCooldowns bool
	authCooldown     time.Duration
	quotaCooldown    time.Duration
	latencyAlpha     float64
	latencyHalfLife  time.Duration
	timeoutPenalty   time.Duration
}

// resolve returns s with every unset (or out of range) field replaced by
// its default.
func (s Settings) resolve() health {
	h := health{
		allowedFails:    DefaultAllowedFails,
		failureWindow:   s.FailureWindow,
		cooldownTime:    DefaultCooldownTime,
		authCooldown:    s.AuthCooldown,
		quotaCooldown:   s.QuotaCooldown,
		latencyAlpha:    s.LatencyAlpha,
		latencyHalfLife: s.LatencyHalfLife,
		timeoutPenalty:  s.TimeoutPenalty,
	}
	if s.AllowedFails != nil && *s.AllowedFails >= 0 {
		h.allowedFails = *s.AllowedFails
	}
	if s.CooldownTime != nil {
		if *s.CooldownTime > 0 {
			h.cooldownTime = *s.CooldownTime
		} else if *s.CooldownTime == 0 {
			h.disableCooldowns = true
		}
	}
	if h.failureWindow <= 0 {
		h.failureWindow = DefaultFailureWindow
	}
	if h.authCooldown <= 0 {
		h.authCooldown = DefaultAuthCooldown
	}
	if h.quotaCooldown <= 0 {
		h.quotaCooldown = DefaultQuotaCooldown
	}
	if !(h.latencyAlpha > 0 && h.latencyAlpha <= 1) {
		h.latencyAlpha = DefaultLatencyAlpha
	}
	if h.latencyHalfLife <= 0 {
		h.latencyHalfLife = DefaultLatencyHalfLife
	}
	return h
}
