package ratelimit

import (
	"net/http"
	"time"
)

// Header names as http.Header stores them (canonical form), so that Parse
// can index the map directly instead of canonicalising on every lookup.
// Headers read by net/http (HTTP/1 and HTTP/2) and set with Header.Set are
// always canonical.
const (
	hLimitRequests     = "X-Ratelimit-Limit-Requests"
	hLimitTokens       = "X-Ratelimit-Limit-Tokens"
	hRemainingRequests = "X-Ratelimit-Remaining-Requests"
	hRemainingTokens   = "X-Ratelimit-Remaining-Tokens"
	hResetRequests     = "X-Ratelimit-Reset-Requests"
	hResetTokens       = "X-Ratelimit-Reset-Tokens"
	hRetryAfterMs      = "Retry-After-Ms"
	hRetryAfter        = "Retry-After"

	hAnthropicRequestsLimit        = "Anthropic-Ratelimit-Requests-Limit"
	hAnthropicRequestsRemaining    = "Anthropic-Ratelimit-Requests-Remaining"
	hAnthropicRequestsReset        = "Anthropic-Ratelimit-Requests-Reset"
	hAnthropicTokensLimit          = "Anthropic-Ratelimit-Tokens-Limit"
	hAnthropicTokensRemaining      = "Anthropic-Ratelimit-Tokens-Remaining"
	hAnthropicTokensReset          = "Anthropic-Ratelimit-Tokens-Reset"
	hAnthropicInputTokensLimit     = "Anthropic-Ratelimit-Input-Tokens-Limit"
	hAnthropicInputTokensRemaining = "Anthropic-Ratelimit-Input-Tokens-Remaining"
	hAnthropicInputTokensReset     = "Anthropic-Ratelimit-Input-Tokens-Reset"
)

const (
	maxDuration = time.Duration(1<<63 - 1)
	maxCount    = int64(1<<63 - 1)

	// Bounds on the length of an HTTP date in any of the three formats
	// http.ParseTime accepts ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 850,
	// ANSI C), with room for odd spacing.
	httpDateMinLen, httpDateMaxLen = 20, 40
	// rfc3339MinLen is the length of the shortest RFC 3339 timestamp.
	rfc3339MinLen = len("2006-01-02T15:04:05Z")
)

// Parse reads the rate-limit headers of one upstream response, observed at
// now, into a Snapshot. It understands:
//
//   - OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens}, with
//     resets as Go-style durations ("6m0s", "17.28s", "12ms") or plain
//     seconds ("20", "0.5");
//   - Azure OpenAI's subset (x-ratelimit-remaining-* only);
//   - retry-after-ms (float milliseconds), then retry-after (seconds, or an
//     HTTP date measured from now; a date in the past gives 0);
//   - Anthropic-style anthropic-ratelimit-{requests,tokens,input-tokens,
//     output-tokens}-{limit,remaining,reset} with RFC 3339 reset times,
//     turned into durations from now. Tokens come from the "tokens" set
//     when any of its headers is present, else from "input-tokens". These
//     fill only the fields the x-ratelimit-* headers left Unknown; the
//     output-tokens set has no place in a Snapshot and is ignored.
//
// A missing, malformed or negative value is Unknown, never zero. When a
// header is repeated, its first value is used. Parse expects canonical
// header keys, as net/http produces; it does not allocate.
func Parse(h http.Header, now time.Time) Snapshot {
	s := Empty(now)
	if len(h) == 0 {
		return s
	}
	s.LimitRequests = headerCount(h, hLimitRequests)
	s.RemainingRequests = headerCount(h, hRemainingRequests)
	s.LimitTokens = headerCount(h, hLimitTokens)
	s.RemainingTokens = headerCount(h, hRemainingTokens)
	s.ResetRequests = headerDuration(h, hResetRequests)
	s.ResetTokens = headerDuration(h, hResetTokens)
	if d, ok := ParseRetryAfter(h, now); ok {
		s.RetryAfter = d
	}
	if s.LimitRequests < 0 || s.RemainingRequests < 0 || s.ResetRequests < 0 ||
		s.LimitTokens < 0 || s.RemainingTokens < 0 || s.ResetTokens < 0 {
		parseAnthropic(h, now, &s)
	}
	return s
}

// parseAnthropic fills the fields of s that are still Unknown from the
// anthropic-ratelimit-* headers.
func parseAnthropic(h http.Header, now time.Time, s *Snapshot) {
	fill := func(dst *int64, key string) {
		if *dst < 0 {
			*dst = headerCount(h, key)
		}
	}
	fillReset := func(dst *time.Duration, key string) {
		if *dst < 0 {
			*dst = headerResetTime(h, key, now)
		}
	}
	fill(&s.LimitRequests, hAnthropicRequestsLimit)
	fill(&s.RemainingRequests, hAnthropicRequestsRemaining)
	fillReset(&s.ResetRequests, hAnthropicRequestsReset)

	limit, remaining, reset := hAnthropicTokensLimit, hAnthropicTokensRemaining, hAnthropicTokensReset
	if !has(h, limit) && !has(h, remaining) && !has(h, reset) {
		limit, remaining, reset = hAnthropicInputTokensLimit, hAnthropicInputTokensRemaining, hAnthropicInputTokensReset
	}
	fill(&s.LimitTokens, limit)
	fill(&s.RemainingTokens, remaining)
	fillReset(&s.ResetTokens, reset)
}

// ParseRetryAfter returns the server's retry hint: retry-after-ms (float
// milliseconds) when present and well formed, else retry-after as seconds
// (integer or decimal) or as an HTTP date, measured from now (a date in the
// past gives 0). ok is false when neither header holds a usable value.
func ParseRetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if v, found := first(h, hRetryAfterMs); found {
		if d, ok := parseDecimal(trimOWS(v), time.Millisecond); ok {
			return d, true
		}
	}
	v, found := first(h, hRetryAfter)
	if !found {
		return 0, false
	}
	v = trimOWS(v)
	if d, ok := parseDecimal(v, time.Second); ok {
		return d, true
	}
	// Only strings of an HTTP date's length can be one; checking first
	// spares the error allocation of http.ParseTime on junk.
	if len(v) < httpDateMinLen || len(v) > httpDateMaxLen {
		return 0, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return untilFrom(t, now), true
}

// ParseDuration parses a rate-limit reset value: a Go-style duration such
// as "1s", "6m0s", "12ms", "17.28s" or "1h2m3.5s" (units h, m, s, ms, us,
// µs, ns), or a plain non-negative number of seconds such as "20" or "0.5".
// Surrounding spaces and tabs are ignored. Negative, empty, malformed and
// overflowing values give ok=false. It does not allocate.
func ParseDuration(s string) (time.Duration, bool) {
	s = trimOWS(s)
	if s == "" {
		return 0, false
	}
	// A plain number is seconds.
	if d, ok := parseDecimal(s, time.Second); ok {
		return d, true
	}
	var total uint64
	for s != "" {
		whole, frac, scale, rest, ok := parseNumber(s)
		if !ok {
			return 0, false
		}
		unit, rest, ok := parseUnit(rest)
		if !ok {
			return 0, false
		}
		v, ok := scaleNumber(whole, frac, scale, unit)
		if !ok {
			return 0, false
		}
		total += v
		if total > uint64(maxDuration) {
			return 0, false
		}
		s = rest
	}
	return time.Duration(total), true
}

// parseDecimal parses all of s as a non-negative decimal number ("20",
// "0.5", ".5", "5.") and returns it multiplied by unit.
func parseDecimal(s string, unit time.Duration) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	whole, frac, scale, rest, ok := parseNumber(s)
	if !ok || rest != "" {
		return 0, false
	}
	v, ok := scaleNumber(whole, frac, scale, uint64(unit))
	if !ok || v > uint64(maxDuration) {
		return 0, false
	}
	return time.Duration(v), true
}

// parseNumber reads the leading decimal number of s: digits, optionally
// followed by '.' and more digits, with at least one digit in all. frac is
// the fraction's digits as an integer and scale the power of ten they are
// divided by. Digits of the fraction past what uint64 holds are dropped
// (they are below a nanosecond for every unit used here).
func parseNumber(s string) (whole, frac uint64, scale float64, rest string, ok bool) {
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if whole > (1<<63)/10 {
			return 0, 0, 0, "", false // overflow
		}
		whole = whole*10 + uint64(s[i]-'0')
		if whole > 1<<63 {
			return 0, 0, 0, "", false
		}
	}
	digits := i
	scale = 1
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && isDigit(s[i]); i++ {
			digits++
			if scale >= 1e18 {
				continue
			}
			frac = frac*10 + uint64(s[i]-'0')
			scale *= 10
		}
	}
	if digits == 0 {
		return 0, 0, 0, "", false
	}
	return whole, frac, scale, s[i:], true
}

// scaleNumber returns (whole + frac/scale) * unit, reporting overflow.
func scaleNumber(whole, frac uint64, scale float64, unit uint64) (uint64, bool) {
	if whole > (1<<63)/unit {
		return 0, false
	}
	v := whole * unit
	if frac > 0 {
		v += uint64(float64(frac) * (float64(unit) / scale))
	}
	if v > uint64(maxDuration) {
		return 0, false
	}
	return v, true
}

// parseUnit reads a Go duration unit from the start of s.
func parseUnit(s string) (unit uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && !isDigit(s[i]) && s[i] != '.' {
		i++
	}
	switch s[:i] {
	case "h":
		unit = uint64(time.Hour)
	case "m":
		unit = uint64(time.Minute)
	case "s":
		unit = uint64(time.Second)
	case "ms":
		unit = uint64(time.Millisecond)
	case "us", "µs", "μs": // ASCII u, U+00B5 micro sign, U+03BC Greek mu
		unit = uint64(time.Microsecond)
	case "ns":
		unit = uint64(time.Nanosecond)
	default:
		return 0, "", false
	}
	return unit, s[i:], true
}

// parseCount parses a non-negative decimal integer.
func parseCount(s string) (int64, bool) {
	s = trimOWS(s)
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		if n > (maxCount-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// headerCount returns the count in header key, or Unknown.
func headerCount(h http.Header, key string) int64 {
	v, ok := first(h, key)
	if !ok {
		return Unknown
	}
	n, ok := parseCount(v)
	if !ok {
		return Unknown
	}
	return n
}

// headerDuration returns the duration in header key, or Unknown.
func headerDuration(h http.Header, key string) time.Duration {
	v, ok := first(h, key)
	if !ok {
		return Unknown
	}
	d, ok := ParseDuration(v)
	if !ok {
		return Unknown
	}
	return d
}

// headerResetTime returns the time from now until the RFC 3339 timestamp in
// header key (0 when it is past), or Unknown. A duration is accepted too,
// for servers that send one under an Anthropic-style name.
func headerResetTime(h http.Header, key string, now time.Time) time.Duration {
	v, ok := first(h, key)
	if !ok {
		return Unknown
	}
	v = trimOWS(v)
	if len(v) >= rfc3339MinLen && isDigit(v[0]) && v[4] == '-' {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return Unknown
		}
		return untilFrom(t, now)
	}
	if d, ok := ParseDuration(v); ok {
		return d
	}
	return Unknown
}

// untilFrom returns t - now, clamped to [0, maxDuration].
func untilFrom(t, now time.Time) time.Duration {
	d := t.Sub(now) // saturates instead of overflowing
	if d < 0 {
		return 0
	}
	return d
}

func first(h http.Header, key string) (string, bool) {
	v := h[key]
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func has(h http.Header, key string) bool { return len(h[key]) > 0 }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimOWS removes HTTP optional whitespace (spaces and tabs) at both ends.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
