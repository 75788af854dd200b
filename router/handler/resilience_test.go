package handler

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// stepClock is the router's clock in these tests: its waits advance it at
// once instead of sleeping.
type stepClock struct{ ns atomic.Int64 }

func newStepClock() *stepClock {
	c := &stepClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *stepClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.ns.Add(int64(d))
	return nil
}

// outageStack is a gateway over a three-deployment group gpt-4o (keys
// sk-a, sk-b, sk-c on one fake upstream) with the router's default
// retries, on a step clock.
func outageStack(t *testing.T, s router.Settings) *stack {
	t.Helper()
	return newStackWith(t, s)
}

func newStackWith(t *testing.T, s router.Settings, opts ...router.Option) *stack {
	t.Helper()
	return newStack(t, stackConfig{
		router: append([]router.Option{router.WithClock(newStepClock())}, opts...),
		config: func(c *router.Config, url string) {
			c.Deployments = nil
			for _, k := range []string{"a", "b", "c"} {
				c.Deployments = append(c.Deployments, deployment.Config{
					ID: "gpt-4o-" + k, ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-" + k, BaseURL: url,
				})
			}
			c.Settings = s
		},
	})
}

// defaultSDK is the official SDK as users run it: default retries (2) on.
func (st *stack) defaultSDK() openai.Client {
	return openai.NewClient(
		option.WithBaseURL(st.srv.URL+"/v1/"),
		option.WithAPIKey("any"),
		option.WithHTTPClient(st.srv.Client()),
	)
}

func chatParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}
}

// TestOutageSDKDefaultRetries: every deployment of the group answers 500;
// 50 callers use the SDK with its default retries. The router's final
// answer says x-should-retry: false, the retry budget holds retries to a
// fifth of the calls, so the upstream sees at most 1.2 calls per client
// request, and every caller gets the router's error (not its own
// deadline). It used to be up to 9 calls per request (3 SDK tries of 3
// router attempts each).
func TestOutageSDKDefaultRetries(t *testing.T) {
	const callers = 50
	st := outageStack(t, router.Settings{})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 500})
	c := st.defaultSDK()

	start := time.Now()
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			_, errs[i] = c.Chat.Completions.New(ctx, chatParams())
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	for i, err := range errs {
		// The last upstream 500, or 429 no_deployment_available once the
		// three deployments are cooling down.
		var ae *openai.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusInternalServerError && ae.StatusCode != http.StatusTooManyRequests {
			t.Errorf("caller %d: err = %v, want the router's 500 or 429", i, err)
			continue
		}
		if got := ae.Response.Header.Get("X-Should-Retry"); got != "false" {
			t.Errorf("caller %d: x-should-retry %q, want false", i, got)
		}
		if ae.Response.Header.Get(router.HeaderAttemptedRetries) == "" {
			t.Errorf("caller %d: no %s header", i, router.HeaderAttemptedRetries)
		}
	}
	upstream := st.fake.Stats().Requests
	perRequest := float64(upstream) / callers
	t.Logf("outage: %d upstream calls for %d client requests (%.2f each), all answered in %s", upstream, callers, perRequest, elapsed.Round(time.Millisecond))
	if perRequest > 1.2 {
		t.Errorf("upstream calls per client request = %.2f, want <= 1.2", perRequest)
	}
}

// TestHangingUpstreamThroughHandler: every deployment hangs. With a short
// attempt timeout the call tries two deployments (the hung attempt is
// retried once, elsewhere) and answers 504 with x-should-retry: false; with
// a short call deadline it tries one. No key is tried twice, and the SDK
// does not retry.
func TestHangingUpstreamThroughHandler(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        router.Settings
		upstream int64
	}{
		{"short attempt timeout", router.Settings{Timeout: 50 * time.Millisecond}, 2},
		{"short call deadline", router.Settings{CallTimeout: 50 * time.Millisecond}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := outageStack(t, tc.s)
			st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
			c := st.defaultSDK()
			_, err := c.Chat.Completions.New(t.Context(), chatParams())
			var ae *openai.Error
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusGatewayTimeout {
				t.Fatalf("err = %v, want a 504", err)
			}
			if got := ae.Response.Header.Get("X-Should-Retry"); got != "false" {
				t.Errorf("x-should-retry %q, want false", got)
			}
			waitUntil(t, func() bool { return st.fake.Stats().InFlight == 0 })
			if got := st.fake.Stats().Requests; got != tc.upstream {
				t.Errorf("upstream calls = %d, want %d", got, tc.upstream)
			}
			seen := map[string]bool{}
			for _, rr := range st.fake.Requests() {
				if seen[rr.Key] {
					t.Errorf("hanging deployment %s attempted twice", rr.Key)
				}
				seen[rr.Key] = true
			}
		})
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
	}
}

// TestFinalErrorHeaders: answers after routing say what the router did and
// whether to retry; caller mistakes keep their shape.
func TestFinalErrorHeaders(t *testing.T) {
	const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	type want struct {
		status             int
		shouldRetry        string
		retries, fallbacks string // "" for no header
		retryAfter         bool
		message            string // a substring, when set
	}
	check := func(t *testing.T, resp *http.Response, w want) {
		t.Helper()
		b := string(readAll(t, resp))
		h := resp.Header
		if resp.StatusCode != w.status || h.Get("X-Should-Retry") != w.shouldRetry ||
			h.Get(router.HeaderAttemptedRetries) != w.retries || h.Get(router.HeaderAttemptedFallbacks) != w.fallbacks {
			t.Errorf("status %d, x-should-retry %q, retries %q, fallbacks %q; want %+v (body %s)", resp.StatusCode,
				h.Get("X-Should-Retry"), h.Get(router.HeaderAttemptedRetries), h.Get(router.HeaderAttemptedFallbacks), w, b)
		}
		if ra := h.Get("Retry-After"); (ra != "") != w.retryAfter {
			t.Errorf("retry-after %q, want one: %v", ra, w.retryAfter)
		}
		if w.message != "" && !strings.Contains(b, w.message) {
			t.Errorf("body %s, want it to say %q", b, w.message)
		}
	}
	t.Run("retries spent", func(t *testing.T) {
		st := outageStack(t, router.Settings{Deployment: deployment.Settings{CooldownTime: new(time.Duration(0))}})
		st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503})
		check(t, st.post(t, "/v1/chat/completions", body), want{status: 503, shouldRetry: "false", retries: "2", fallbacks: "0"})
	})
	t.Run("all cooling down, back at a known time", func(t *testing.T) {
		st := outageStack(t, router.Settings{NumRetries: new(0)})
		for _, d := range st.rt.Deployments() {
			d.SetCooldown(st.rt.Clock().Now().Add(30*time.Second), "test")
		}
		resp := st.post(t, "/v1/chat/completions", body)
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		check(t, resp, want{status: 429, shouldRetry: "false", retries: "0", fallbacks: "0", retryAfter: true})
		if ra != 30 {
			t.Errorf("retry-after %d, want 30", ra)
		}
	})
	t.Run("failed, all cooling down: retry-after from the cooldowns", func(t *testing.T) {
		st := outageStack(t, router.Settings{Deployment: deployment.Settings{AllowedFails: new(0)}})
		st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 500})
		// Each of the three attempts puts its deployment in cooldown (5s).
		resp := st.post(t, "/v1/chat/completions", body)
		if ra := resp.Header.Get("Retry-After"); ra != "5" {
			t.Errorf("retry-after %q, want 5 (the first cooldown's end)", ra)
		}
		check(t, resp, want{status: 500, shouldRetry: "false", retries: "2", fallbacks: "0", retryAfter: true})
	})
	t.Run("budget refused", func(t *testing.T) {
		none := 0
		st := outageStack(t, router.Settings{
			RetryBudget: router.RetryBudget{MinRetries: &none},
			Deployment:  deployment.Settings{CooldownTime: new(time.Duration(0))},
		})
		st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 500})
		check(t, st.post(t, "/v1/chat/completions", body), want{status: 500, shouldRetry: "false", retries: "0", fallbacks: "0", message: "retry budget"})
		if got := st.fake.Stats().Requests; got != 1 {
			t.Errorf("upstream calls = %d, want 1", got)
		}
		if got := metricValue(t, st.reg, "switchyard_retry_budget_refusals_total", "model_group=gpt-4o"); got != 1 {
			t.Errorf("switchyard_retry_budget_refusals_total = %v, want 1", got)
		}
	})
	t.Run("caller mistakes keep their shape", func(t *testing.T) {
		st := outageStack(t, router.Settings{})
		check(t, st.post(t, "/v1/chat/completions", `{"messages":[]}`), want{status: 400})
		st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultContextLength, Window: 1})
		check(t, st.post(t, "/v1/chat/completions", body), want{status: 400})
	})
}
