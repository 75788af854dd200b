package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1s", time.Second, true},
		{"6m0s", 6 * time.Minute, true},
		{"12ms", 12 * time.Millisecond, true},
		{"17.28s", 17280 * time.Millisecond, true},
		{"1h2m3.5s", time.Hour + 2*time.Minute + 3500*time.Millisecond, true},
		{"0s", 0, true},
		{"0", 0, true},
		{"20", 20 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{".5", 500 * time.Millisecond, true},
		{"5.", 5 * time.Second, true},
		{" 2s\t", 2 * time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"100us", 100 * time.Microsecond, true},
		{"100µs", 100 * time.Microsecond, true},
		{"100μs", 100 * time.Microsecond, true},
		{"7ns", 7, true},
		{"1m30.001s", 90*time.Second + time.Millisecond, true},
		{"2562047h47m16.854775807s", 1<<63 - 1, true},
		{"0.000000001", time.Nanosecond, true},

		{"", 0, false},
		{"   ", 0, false},
		{"-1s", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"s", 0, false},
		{".", 0, false},
		{".s", 0, false},
		{"1m30", 0, false}, // a trailing number needs a unit
		{"1d", 0, false},
		{"1 s", 0, false},
		{"abc", 0, false},
		{"1e3", 0, false},
		{"2562047h47m16.854775808s", 0, false}, // one past the maximum
		{"9999999999999999999999s", 0, false},
		{"99999999999999999999", 0, false},
		{"1.2.3s", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseDuration(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseDurationMatchesTime checks that every Go-style duration both
// parsers accept gets the same value.
func TestParseDurationMatchesTime(t *testing.T) {
	for _, s := range []string{"1s", "6m0s", "1h2m3.5s", "17.28s", "0.001ms", "3.999999999s", "1.0000000001s", "12.3456789ms"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := ParseDuration(s); !ok || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; time.ParseDuration says %v", s, got, ok, want)
		}
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParse(t *testing.T) {
	u := int64(Unknown)
	ud := time.Duration(Unknown)
	tests := []struct {
		name string
		h    http.Header
		want Snapshot
	}{
		{
			name: "nil header",
			h:    nil,
			want: Empty(t0),
		},
		{
			name: "openai full set",
			h: header(
				"x-ratelimit-limit-requests", "60",
				"x-ratelimit-limit-tokens", "150000",
				"x-ratelimit-remaining-requests", "59",
				"x-ratelimit-remaining-tokens", "149984",
				"x-ratelimit-reset-requests", "1s",
				"x-ratelimit-reset-tokens", "6m0s",
			),
			want: Snapshot{t0, 60, 59, 150000, 149984, time.Second, 6 * time.Minute, ud},
		},
		{
			name: "openai-compatible server with plain seconds",
			h: header(
				"x-ratelimit-limit-requests", "100",
				"x-ratelimit-remaining-requests", "0",
				"x-ratelimit-reset-requests", "20",
				"x-ratelimit-reset-tokens", "0.5",
			),
			want: Snapshot{t0, 100, 0, u, u, 20 * time.Second, 500 * time.Millisecond, ud},
		},
		{
			name: "azure subset with retry-after-ms",
			h: header(
				"x-ratelimit-remaining-requests", "0",
				"x-ratelimit-remaining-tokens", "1200",
				"retry-after-ms", "1500.5",
				"retry-after", "2",
			),
			want: Snapshot{t0, u, 0, u, 1200, ud, ud, 1500*time.Millisecond + 500*time.Microsecond},
		},
		{
			name: "retry-after seconds when retry-after-ms is malformed",
			h:    header("retry-after-ms", "soon", "retry-after", "7"),
			want: Snapshot{t0, u, u, u, u, ud, ud, 7 * time.Second},
		},
		{
			name: "retry-after as an HTTP date",
			h:    header("retry-after", t0.Add(90*time.Second).Format(http.TimeFormat)),
			want: Snapshot{t0, u, u, u, u, ud, ud, 90 * time.Second},
		},
		{
			name: "retry-after date in the past",
			h:    header("retry-after", t0.Add(-time.Hour).Format(http.TimeFormat)),
			want: Snapshot{t0, u, u, u, u, ud, ud, 0},
		},
		{
			name: "malformed and negative values are unknown, not zero",
			h: header(
				"x-ratelimit-limit-requests", "-1",
				"x-ratelimit-limit-tokens", "lots",
				"x-ratelimit-remaining-requests", "",
				"x-ratelimit-remaining-tokens", "12.5",
				"x-ratelimit-reset-requests", "-1s",
				"x-ratelimit-reset-tokens", "soon",
				"retry-after", "-3",
			),
			want: Empty(t0),
		},
		{
			name: "count overflow is unknown",
			h:    header("x-ratelimit-limit-tokens", "9223372036854775808", "x-ratelimit-remaining-tokens", "9223372036854775807"),
			want: Snapshot{t0, u, u, u, 1<<63 - 1, ud, ud, ud},
		},
		{
			name: "repeated header uses the first value",
			h:    header("x-ratelimit-remaining-requests", "5", "x-ratelimit-remaining-requests", "9"),
			want: Snapshot{t0, u, 5, u, u, ud, ud, ud},
		},
		{
			name: "anthropic tokens set wins over input-tokens",
			h: header(
				"anthropic-ratelimit-requests-limit", "50",
				"anthropic-ratelimit-requests-remaining", "49",
				"anthropic-ratelimit-requests-reset", t0.Add(1200*time.Millisecond).Format(time.RFC3339Nano),
				"anthropic-ratelimit-tokens-limit", "90000",
				"anthropic-ratelimit-tokens-remaining", "80000",
				"anthropic-ratelimit-tokens-reset", "2026-03-15T12:00:30Z",
				"anthropic-ratelimit-input-tokens-limit", "40000",
				"anthropic-ratelimit-input-tokens-remaining", "1",
				"anthropic-ratelimit-output-tokens-limit", "8000",
			),
			want: Snapshot{t0, 50, 49, 90000, 80000, 1200 * time.Millisecond, 30 * time.Second, ud},
		},
		{
			name: "anthropic input-tokens when tokens set is absent",
			h: header(
				"anthropic-ratelimit-input-tokens-limit", "40000",
				"anthropic-ratelimit-input-tokens-remaining", "39000",
				"anthropic-ratelimit-input-tokens-reset", "2026-03-15T13:00:00+01:00", // = t0: reset now
				"anthropic-ratelimit-output-tokens-remaining", "1",
			),
			want: Snapshot{t0, u, u, 40000, 39000, ud, 0, ud},
		},
		{
			name: "anthropic reset in the past is 0, malformed is unknown",
			h: header(
				"anthropic-ratelimit-requests-reset", "2020-01-01T00:00:00Z",
				"anthropic-ratelimit-tokens-reset", "2026-13-45T99:00:00Z",
			),
			want: Snapshot{t0, u, u, u, u, 0, ud, ud},
		},
		{
			name: "x-ratelimit values win over anthropic ones",
			h: header(
				"x-ratelimit-remaining-requests", "3",
				"anthropic-ratelimit-requests-remaining", "7",
				"anthropic-ratelimit-requests-limit", "10",
			),
			want: Snapshot{t0, 10, 3, u, u, ud, ud, ud},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.h, t0)
			if got != tt.want {
				t.Errorf("Parse =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{"none", header(), 0, false},
		{"ms first", header("retry-after-ms", "250", "retry-after", "10"), 250 * time.Millisecond, true},
		{"ms fraction", header("retry-after-ms", "0.5"), 500 * time.Microsecond, true},
		{"seconds", header("retry-after", "10"), 10 * time.Second, true},
		{"decimal seconds", header("retry-after", "1.25"), 1250 * time.Millisecond, true},
		{"zero", header("retry-after", "0"), 0, true},
		{"http date", header("retry-after", "Sun, 15 Mar 2026 12:01:00 GMT"), time.Minute, true},
		{"rfc850 date", header("retry-after", "Sunday, 15-Mar-26 12:00:05 GMT"), 5 * time.Second, true},
		{"ansi c date", header("retry-after", "Sun Mar 15 12:00:02 2026"), 2 * time.Second, true},
		{"past date", header("retry-after", "Sun, 15 Mar 2026 11:00:00 GMT"), 0, true},
		{"negative", header("retry-after", "-1"), 0, false},
		{"junk", header("retry-after", "later, please, in a while"), 0, false},
		{"both malformed", header("retry-after-ms", "x", "retry-after", "y"), 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.h, t0)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: ParseRetryAfter = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestHeaderKeysCanonical guards the direct map lookups: a key that is not
// in canonical form would never match a header read by net/http.
func TestHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{
		hLimitRequests, hLimitTokens, hRemainingRequests, hRemainingTokens, hResetRequests, hResetTokens,
		hRetryAfterMs, hRetryAfter,
		hAnthropicRequestsLimit, hAnthropicRequestsRemaining, hAnthropicRequestsReset,
		hAnthropicTokensLimit, hAnthropicTokensRemaining, hAnthropicTokensReset,
		hAnthropicInputTokensLimit, hAnthropicInputTokensRemaining, hAnthropicInputTokensReset,
	} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("header key %q is not canonical (%q)", k, c)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	for name, h := range benchHeaders() {
		if n := testing.AllocsPerRun(100, func() { _ = Parse(h, t0) }); n != 0 {
			t.Errorf("Parse(%s) allocates %v times", name, n)
		}
	}
}

func benchHeaders() map[string]http.Header {
	return map[string]http.Header{
		"openai": header(
			"x-ratelimit-limit-requests", "10000",
			"x-ratelimit-limit-tokens", "30000000",
			"x-ratelimit-remaining-requests", "9999",
			"x-ratelimit-remaining-tokens", "29999985",
			"x-ratelimit-reset-requests", "6ms",
			"x-ratelimit-reset-tokens", "1h2m3.5s",
			"content-type", "application/json",
			"x-request-id", "req_123",
			"openai-processing-ms", "231",
		),
		"azure429": header(
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-remaining-tokens", "0",
			"retry-after-ms", "1500.5",
			"retry-after", "2",
		),
		"anthropic": header(
			"anthropic-ratelimit-requests-limit", "50",
			"anthropic-ratelimit-requests-remaining", "49",
			"anthropic-ratelimit-requests-reset", "2026-03-15T12:00:01Z",
			"anthropic-ratelimit-tokens-limit", "90000",
			"anthropic-ratelimit-tokens-remaining", "80000",
			"anthropic-ratelimit-tokens-reset", "2026-03-15T12:00:30.5Z",
		),
		"retryafterdate": header("retry-after", "Sun, 15 Mar 2026 12:01:00 GMT"),
	}
}

func BenchmarkParseOpenAI(b *testing.B)         { benchParse(b, "openai") }
func BenchmarkParseAzure429(b *testing.B)       { benchParse(b, "azure429") }
func BenchmarkParseAnthropic(b *testing.B)      { benchParse(b, "anthropic") }
func BenchmarkParseRetryAfterDate(b *testing.B) { benchParse(b, "retryafterdate") }

func benchParse(b *testing.B, name string) {
	h := benchHeaders()[name]
	b.ReportAllocs()
	var s Snapshot
	for b.Loop() {
		s = Parse(h, t0)
	}
	if !s.Known() {
		b.Fatal("parsed nothing")
	}
}

func BenchmarkParseDuration(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseDuration("1h2m3.5s"); !ok {
			b.Fatal("not ok")
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1s", "6m0s", "12ms", "17.28s", "1h2m3.5s", "0s", "20", "0.5", "-1s", "", ".", "1m30", "µs", "9999999999h", "1.0000000000000000001s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDuration(s)
		if !ok {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %v with ok=false", s, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v < 0", s, d)
		}
		// Where Go's own parser also accepts the input (and the input has a
		// unit), both must agree within a nanosecond per component of
		// float rounding.
		if want, err := time.ParseDuration(trimOWS(s)); err == nil && want >= 0 {
			if diff := d - want; diff < -16 || diff > 16 {
				t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration = %v", s, d, want)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("60", "59", "1s", "150000", "149984", "6m0s", "", "", "")
	f.Add("", "0", "", "", "0", "", "1500.5", "2", "")
	f.Add("", "", "", "", "", "", "", "Sun, 15 Mar 2026 12:01:00 GMT", "2026-03-15T12:00:30Z")
	f.Add("-1", "x", "-1s", "1e9", "99999999999999999999", "1m30", "-5", "-3", "2026-13-45T99:00:00Z")
	f.Fuzz(func(t *testing.T, limReq, remReq, resetReq, limTok, remTok, resetTok, retryMs, retry, anthReset string) {
		h := header(
			"x-ratelimit-limit-requests", limReq,
			"x-ratelimit-remaining-requests", remReq,
			"x-ratelimit-reset-requests", resetReq,
			"x-ratelimit-limit-tokens", limTok,
			"x-ratelimit-remaining-tokens", remTok,
			"x-ratelimit-reset-tokens", resetTok,
			"retry-after-ms", retryMs,
			"retry-after", retry,
			"anthropic-ratelimit-requests-reset", anthReset,
			"anthropic-ratelimit-tokens-reset", anthReset,
			"anthropic-ratelimit-input-tokens-remaining", remTok,
		)
		s := Parse(h, t0)
		for _, v := range []int64{s.LimitRequests, s.RemainingRequests, s.LimitTokens, s.RemainingTokens,
			int64(s.ResetRequests), int64(s.ResetTokens), int64(s.RetryAfter)} {
			if v != Unknown && v < 0 {
				t.Fatalf("Parse gave %d: %+v", v, s)
			}
		}
		// The projections and exhaustion check must hold on any parse.
		for _, dt := range []time.Duration{0, time.Second, time.Hour} {
			if v := s.RequestsLeftAt(t0.Add(dt)); v != Unknown && v < 0 {
				t.Fatalf("RequestsLeftAt = %d", v)
			}
			if v := s.TokensLeftAt(t0.Add(dt)); v != Unknown && v < 0 {
				t.Fatalf("TokensLeftAt = %d", v)
			}
		}
		if until, ok := s.ExhaustedUntil(); ok && until.Before(t0) {
			t.Fatalf("ExhaustedUntil = %v before the observation", until)
		}
	})
}
