package ratelimit_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

func ExampleParse() {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "60")
	h.Set("x-ratelimit-remaining-requests", "0")
	h.Set("x-ratelimit-reset-requests", "30s")
	h.Set("x-ratelimit-limit-tokens", "150000")
	h.Set("x-ratelimit-remaining-tokens", "149984")
	h.Set("x-ratelimit-reset-tokens", "6m0s")

	s := ratelimit.Parse(h, now)
	until, exhausted := s.ExhaustedUntil()
	// The bucket refills continuously: full after 30s, so one request
	// fits again after 30s/60.
	fmt.Println("exhausted:", exhausted, "for", until.Sub(now))
	fmt.Println("requests left 15s later:", s.RequestsLeftAt(now.Add(15*time.Second)))
	// Output:
	// exhausted: true for 500ms
	// requests left 15s later: 30
}

func ExampleLimiter() {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	l := ratelimit.NewLimiter(600, 90000) // the deployment's rpm and tpm

	r, ok := l.Reserve(now, 1200) // estimated prompt + completion tokens
	if !ok {
		fmt.Println("over the deployment's limits: pick another")
		return
	}
	// ... send the call; the response reports the real usage ...
	r.Settle(now, 900)

	reqFrac, tokFrac := l.Headroom(now)
	fmt.Printf("headroom: requests %.4f, tokens %.4f\n", reqFrac, tokFrac)
	// Output:
	// headroom: requests 0.9983, tokens 0.9900
}
