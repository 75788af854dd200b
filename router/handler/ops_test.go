package handler

import (
	"net/http"
	"strings"
	"testing"
)

// TestProtectedOps checks who may read /metrics and /health/readiness
// (which name deployments and upstream models) under each setting;
// liveness stays open in all of them.
func TestProtectedOps(t *testing.T) {
	const api, ops = "Authorization: Bearer sk-api", "Authorization: Bearer sk-ops"
	tests := []struct {
		name string
		opts []Option
		// want is the status of readiness and metrics for no key, the
		// API key and the ops key.
		want [3]int
	}{
		{"default: open", []Option{WithKeys("sk-api")}, [3]int{200, 200, 200}},
		{"protected by the API keys", []Option{WithKeys("sk-api"), WithProtectedOps(true)}, [3]int{401, 200, 401}},
		{"ops keys", []Option{WithKeys("sk-api"), WithOpsKeys("sk-ops", "")}, [3]int{401, 401, 200}},
		{"ops keys, API open", []Option{WithOpsKeys("sk-ops")}, [3]int{401, 401, 200}},
		{"protected, no key anywhere", []Option{WithProtectedOps(true)}, [3]int{401, 401, 401}},
		{"protection turned off again", []Option{WithOpsKeys("sk-ops"), WithProtectedOps(false)}, [3]int{200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStack(t, stackConfig{handler: tt.opts})
			for _, path := range []string{"/health/readiness", "/metrics"} {
				for i, hdr := range [][]string{nil, {api}, {ops}} {
					resp := st.get(t, path, hdr...)
					if resp.StatusCode != tt.want[i] {
						t.Errorf("%s with %v: status %d, want %d", path, hdr, resp.StatusCode, tt.want[i])
					}
					if resp.StatusCode == http.StatusUnauthorized {
						e := decodeError(t, resp)
						if str(e.Error.Code) != "invalid_api_key" || strings.Contains(e.Error.Message, "sk-") {
							t.Errorf("%s: error %+v", path, e.Error)
						}
						continue
					}
					body := string(readAll(t, resp))
					if resp.StatusCode == http.StatusOK && !strings.Contains(body, "gpt-4o") {
						t.Errorf("%s: body does not name the group:\n%.200s", path, body)
					}
				}
			}
			for _, path := range []string{"/health", "/health/liveness"} {
				if resp := st.get(t, path); resp.StatusCode != http.StatusOK {
					t.Errorf("%s without a key: %d, want 200", path, resp.StatusCode)
				} else {
					readAll(t, resp)
				}
			}
		})
	}
}
