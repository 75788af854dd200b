package router

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// TestCooldownCause checks that a call finding no deployment learns why
// each is out: a 401 took "a" out for the auth cooldown, a 429 took "b"
// out briefly; the NoDeploymentError names each failure and until when,
// and says whether authentication alone is to blame.
func TestCooldownCause(t *testing.T) {
	zero := 0
	h := newHarness(t, Config{Deployments: grp("g", "a", "b"), Settings: Settings{NumRetries: &zero}})
	auth := &provider.Error{Class: provider.ClassAuth, StatusCode: 401, Code: "invalid_api_key", Message: "Incorrect API key provided"}
	h.client("a").setScript(step{err: auth})
	h.client("b").setScript(step{err: auth})
	start := h.clock.Now()
	for range 2 { // one call per deployment, each a 401
		if _, err := h.r.Do(context.Background(), chatReq("g")); !errors.Is(err, provider.ErrAuth) {
			t.Fatalf("first calls: %v, want the 401", err)
		}
	}
	h.clock.Advance(time.Second)
	_, err := h.r.Do(context.Background(), chatReq("g"))
	var nde *NoDeploymentError
	if !errors.As(err, &nde) {
		t.Fatalf("err = %v, want a *NoDeploymentError", err)
	}
	until := start.Add(deployment.DefaultAuthCooldown)
	want := []CooldownCause{
		{Deployment: "a", Class: provider.ClassAuth, StatusCode: 401, Code: "invalid_api_key", At: start, Until: until},
		{Deployment: "b", Class: provider.ClassAuth, StatusCode: 401, Code: "invalid_api_key", At: start, Until: until},
	}
	same := func(a, b CooldownCause) bool {
		return a.Deployment == b.Deployment && a.Class == b.Class && a.StatusCode == b.StatusCode && a.Code == b.Code &&
			a.At.Equal(b.At) && a.Until.Equal(b.Until)
	}
	if len(nde.Causes) != 2 || !same(nde.Causes[0], want[0]) || !same(nde.Causes[1], want[1]) {
		t.Fatalf("Causes = %+v\nwant %+v", nde.Causes, want)
	}
	if !nde.AuthFailed() {
		t.Error("AuthFailed() = false with both deployments out after a 401")
	}
	msg := err.Error()
	for _, s := range []string{
		`deployment "a": authentication failed (401 invalid_api_key) at 2026-03-01T12:00:00Z, cooling down until 2026-03-01T12:10:00Z`,
		`deployment "b": authentication failed (401 invalid_api_key)`,
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}

	// Once the cooldown is over the cause is forgotten; a later cooldown
	// of another kind is not blamed on authentication.
	h.clock.Advance(deployment.DefaultAuthCooldown)
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	h.client("b").setScript(step{err: perr(provider.ClassServer, 500)})
	for range 8 {
		_, _ = h.r.Do(context.Background(), chatReq("g"))
	}
	_, err = h.r.Do(context.Background(), chatReq("g"))
	if !errors.As(err, &nde) {
		t.Fatalf("after the 500s: %v, want a *NoDeploymentError", err)
	}
	if nde.AuthFailed() || len(nde.Causes) != 2 || nde.Causes[0].Class != provider.ClassServer || !nde.Causes[0].At.After(until) {
		t.Errorf("after the 500s: AuthFailed %v, Causes %+v", nde.AuthFailed(), nde.Causes)
	}
	if strings.Contains(err.Error(), "authentication") {
		t.Errorf("error %q still blames authentication", err)
	}
}
