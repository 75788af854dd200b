package openaitest

import (
	"testing"
	"time"
)

func TestFormatReset(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{6 * time.Minute, "6m0s"},
		{time.Second, "1s"},
		{17280 * time.Millisecond, "17.28s"},
		{12 * time.Millisecond, "12ms"},
		{11*time.Millisecond + 1, "12ms"}, // rounded up, never shorter than the truth
		{0, "0s"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1h2m3s"},
	}
	for _, tt := range tests {
		if got := formatReset(tt.d); got != tt.want {
			t.Errorf("formatReset(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		d        time.Duration
		sec, msS string
	}{
		{12 * time.Millisecond, "1", "12"},
		{time.Second, "1", "1000"},
		{1500 * time.Millisecond, "2", "1500"},
		{20 * time.Second, "20", "20000"},
	}
	for _, tt := range tests {
		if got := retryAfterSeconds(tt.d); got != tt.sec {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", tt.d, got, tt.sec)
		}
		if got := retryAfterMS(tt.d); got != tt.msS {
			t.Errorf("retryAfterMS(%v) = %q, want %q", tt.d, got, tt.msS)
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(KeyConfig{RPM: 60, TPM: 600})
	steps := []struct {
		at        time.Duration
		cost      int
		limited   string
		remReq    int64
		remTok    int64
		resetReq  time.Duration
		wait      time.Duration
		tooLarge  bool
		resetToks time.Duration
	}{
		{at: 0, cost: 100, remReq: 59, remTok: 500, resetReq: time.Second, resetToks: 10 * time.Second},
		{at: 0, cost: 500, remReq: 58, remTok: 0, resetReq: 2 * time.Second, resetToks: time.Minute},
		{at: 0, cost: 10, limited: "tokens", remReq: 58, remTok: 0, wait: time.Second, resetReq: 2 * time.Second, resetToks: time.Minute},
		{at: time.Second, cost: 10, remReq: 58, remTok: 0, resetReq: 2 * time.Second, resetToks: time.Minute},
		{at: time.Second, cost: 601, limited: "tokens", tooLarge: true, remReq: 58, remTok: 0, resetReq: 2 * time.Second, resetToks: time.Minute},
		{at: 2 * time.Minute, cost: 0, remReq: 59, remTok: 600, resetReq: time.Second},
		// The clock stepping back refills nothing and breaks nothing.
		{at: time.Minute, cost: 0, remReq: 58, remTok: 600, resetReq: 2 * time.Second},
	}
	for i, s := range steps {
		v := l.take(t0.Add(s.at), s.cost)
		if v.limited != s.limited || v.remReq != s.remReq || v.remTok != s.remTok || v.resetReq != s.resetReq ||
			v.resetT != s.resetToks || v.wait != s.wait || v.tooLarge != s.tooLarge {
			t.Errorf("step %d: got %+v", i, v)
		}
	}
	if newLimiter(KeyConfig{}) != nil {
		t.Error("a zero KeyConfig has a limiter")
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want []string
	}{
		{"echo: a b", 0, []string{"echo:", " a", " b"}},
		{"a  b", 0, []string{"a", "  b"}},
		{"abcdef", 3, []string{"ab", "cd", "ef"}},
		{"abc", 5, []string{"a", "b", "c"}},
		{"héllo", 2, []string{"hé", "llo"}},
		{"", 0, nil},
	}
	for _, tt := range tests {
		got := split(tt.text, tt.n)
		if len(got) != len(tt.want) {
			t.Errorf("split(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("split(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
				break
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		text    string
		max     int
		want    string
		wantCut bool
	}{
		{"abcdefgh", 2, "abcdefgh", false},
		{"abcdefghi", 2, "abcdefgh", true},
		{"abcdefghi", 0, "abcdefghi", false},
		{"abcdéfghi", 1, "abcd", true},
		{"abcéfghi", 1, "abc", true}, // never splits a rune
	}
	for _, tt := range tests {
		got, cut := truncate(tt.text, tt.max)
		if got != tt.want || cut != tt.wantCut {
			t.Errorf("truncate(%q, %d) = %q, %v; want %q, %v", tt.text, tt.max, got, cut, tt.want, tt.wantCut)
		}
	}
}
