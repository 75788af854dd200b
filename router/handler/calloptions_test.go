package handler

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// headerCallOptions is a mapper as a service would write one: a tenant, a
// per-request timeout, retries and tags, from request headers.
func headerCallOptions(r *http.Request) []router.CallOption {
	var opts []router.CallOption
	if t := r.Header.Get("X-Tenant"); t != "" {
		opts = append(opts, router.WithMetadata(map[string]string{"tenant": t}))
	}
	if v := r.Header.Get("X-Timeout-Ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil {
			opts = append(opts, router.WithTimeout(time.Duration(ms)*time.Millisecond))
		}
	}
	if v := r.Header.Get("X-Retries"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			opts = append(opts, router.WithNumRetries(n))
		}
	}
	if v := r.Header.Get("X-Team"); v != "" {
		opts = append(opts, router.WithTags(v))
	}
	return opts
}

func TestCallOptionsFromTheRequest(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts []router.AttemptInfo
	)
	hooks := router.Hooks{OnAttempt: func(_ context.Context, a router.AttemptInfo) {
		mu.Lock()
		attempts = append(attempts, a)
		mu.Unlock()
	}}
	st := newStack(t, stackConfig{
		handler: []Option{WithCallOptions(headerCallOptions)},
		router:  []router.Option{router.WithHooks(hooks)},
		config: func(c *router.Config, url string) {
			c.Deployments = append(c.Deployments,
				deployment.Config{ID: "gpt-4o-team-b", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-upstream-b", BaseURL: url, Tags: []string{"team-b"}},
				deployment.Config{ID: "gpt-4o-c", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-upstream-c", BaseURL: url},
			)
		},
	})
	take := func() []router.AttemptInfo {
		mu.Lock()
		defer mu.Unlock()
		out := attempts
		attempts = nil
		return out
	}
	chat := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`

	// Metadata and tags: the tenant reaches the hooks, the tag picks the
	// team's deployment.
	for range 3 {
		resp := st.post(t, "/v1/chat/completions", chat, "X-Tenant: acme", "X-Team: team-b")
		readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	for _, a := range take() {
		if a.Metadata["tenant"] != "acme" || a.Deployment != "gpt-4o-team-b" {
			t.Errorf("attempt on %s with metadata %v, want team-b's deployment and tenant acme", a.Deployment, a.Metadata)
		}
	}

	// Retries: the stack's router retries nothing; the header asks for 1.
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503})
	resp := st.post(t, "/v1/chat/completions", chat, "X-Retries: 1")
	readAll(t, resp)
	if got := take(); resp.StatusCode != 503 || len(got) != 2 {
		t.Errorf("X-Retries: 1: status %d after %d attempts, want 503 after 2", resp.StatusCode, len(got))
	}
	resp = st.post(t, "/v1/chat/completions", chat)
	readAll(t, resp)
	if got := take(); len(got) != 1 {
		t.Errorf("no header: %d attempts, want 1 (the router's NumRetries: 0)", len(got))
	}
	st.fake.ClearFaults()

	// Timeout: a hanging upstream is cut at the request's own bound.
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
	start := time.Now()
	resp = st.post(t, "/v1/chat/completions", chat, "X-Timeout-Ms: 50")
	readAll(t, resp)
	got := take()
	if len(got) != 1 || got[0].Class != provider.ClassTimeout {
		t.Fatalf("X-Timeout-Ms: 50: attempts %+v, want one timeout", got)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the request took %s, want about 50ms", el)
	}
	st.fake.ClearFaults()
}
