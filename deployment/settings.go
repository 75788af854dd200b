package deployment

import "time"

// Settings tunes the health and latency tracking of a deployment, in the
// manner of gobreaker's Settings: every zero field has a documented default,
// so the zero Settings is ready to use.
type Settings struct {
	// AllowedFails is how many failures within FailureWindow put the
	// deployment in cooldown (LiteLLM allowed_fails). Default 3.
	AllowedFails int
	// FailureWindow is the window in which failures are counted. Default 60s.
	FailureWindow time.Duration
	// CooldownTime is how long a deployment stays out after AllowedFails
	// failures (LiteLLM cooldown_time). Default 5s. A deployment's own
	// Config.CooldownTime wins when positive.
	CooldownTime time.Duration
	// AuthCooldown is how long a deployment stays out after a 401 or 403.
	// Default 10m.
	AuthCooldown time.Duration
	// QuotaCooldown is how long a deployment stays out after an
	// insufficient_quota error. Default 1h.
	QuotaCooldown time.Duration
	// DisableCooldowns keeps the deployment in rotation whatever its
	// failures (LiteLLM's cooldown_time: 0): failures, 401/403 and
	// insufficient_quota neither cool it down nor open its breaker. A 429
	// that says when the limit resets still keeps the key out until then:
	// that is the upstream's answer, not a judgement of health.
	DisableCooldowns bool
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
	// Now is the deployment's clock, returned by Deployment.Now. Every
	// method takes its time as an argument (so tests step a fake clock), so
	// Now only serves callers that want the clock the deployment was
	// configured with. Default time.Now.
	Now func() time.Time
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

// withDefaults returns s with every zero (or out of range) field replaced by
// its default.
func (s Settings) withDefaults() Settings {
	if s.AllowedFails <= 0 {
		s.AllowedFails = DefaultAllowedFails
	}
	if s.FailureWindow <= 0 {
		s.FailureWindow = DefaultFailureWindow
	}
	if s.CooldownTime <= 0 {
		s.CooldownTime = DefaultCooldownTime
	}
	if s.AuthCooldown <= 0 {
		s.AuthCooldown = DefaultAuthCooldown
	}
	if s.QuotaCooldown <= 0 {
		s.QuotaCooldown = DefaultQuotaCooldown
	}
	if !(s.LatencyAlpha > 0 && s.LatencyAlpha <= 1) {
		s.LatencyAlpha = DefaultLatencyAlpha
	}
	if s.LatencyHalfLife <= 0 {
		s.LatencyHalfLife = DefaultLatencyHalfLife
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}
