package deployment_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

func TestZeroCooldownTimeDisablesCooldowns(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *provider.Error
	}{
		{"server errors", perr(provider.ClassServer, 500)},
		{"auth", perr(provider.ClassAuth, 401)},
		{"quota", perr(provider.ClassQuotaExhausted, 429)},
		{"429 without a hint", perr(provider.ClassRateLimited, 429)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, disabled := range []bool{false, true} {
				s := deployment.Settings{AllowedFails: new(1)}
				if disabled {
					s.CooldownTime = new(time.Duration(0)) // LiteLLM's cooldown_time: 0
				}
				d := newDep(t, deployment.Config{}, s)
				for i := range 5 {
					call(t, d, t0.Add(time.Duration(i)*time.Millisecond), fail(tc.err))
				}
				got := d.Available(t0.Add(10*time.Millisecond), 0)
				if disabled && got != deployment.ReasonOK {
					t.Errorf("cooldowns disabled: after 5 failures Available = %v, want ok", got)
				}
				if !disabled && got == deployment.ReasonOK {
					t.Errorf("cooldowns enabled: after 5 failures the deployment is still available")
				}
			}
		})
	}
	t.Run("a 429 with a reset still keeps the key out", func(t *testing.T) {
		d := newDep(t, deployment.Config{}, deployment.Settings{CooldownTime: new(time.Duration(0))})
		e := perr(provider.ClassRateLimited, 429)
		e.RetryAfter = 2 * time.Second
		e.Header = http.Header{"Retry-After": {"2"}}
		call(t, d, t0, fail(e))
		if got := d.Available(t0.Add(time.Second), 0); got == deployment.ReasonOK {
			t.Error("available 1s into a 2s retry-after")
		}
		wantReason(t, d, t0.Add(2*time.Second), deployment.ReasonOK)
	})
}
