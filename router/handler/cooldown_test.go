package handler

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// TestAuthCooldownExplained checks what a caller sees once a single
// upstream 401 has taken the only deployment out for the auth cooldown:
// still 429 (every deployment is out, as LiteLLM answers), but the code
// and the message say the deployment's authentication failed, with the
// upstream's status and code, when, and until when it is out.
func TestAuthCooldownExplained(t *testing.T) {
	st := newStack(t, stackConfig{})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultInvalidKey, Count: 1})
	if resp := st.post(t, "/v1/chat/completions", chatBody); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("first call: %d, want the upstream's 401", resp.StatusCode)
	} else {
		readAll(t, resp)
	}
	resp := st.post(t, "/v1/chat/completions", chatBody)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second call: %d retry-after %q, want 429 with retry-after", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e := decodeError(t, resp)
	if str(e.Error.Code) != "deployment_authentication_failed" {
		t.Errorf("code %s, want deployment_authentication_failed", str(e.Error.Code))
	}
	for _, want := range []string{`deployment "gpt-4o-a": authentication failed (401 invalid_api_key) at `, ", cooling down until "} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("message %q lacks %q", e.Error.Message, want)
		}
	}
	if n := st.fake.Stats().Requests; n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}
