package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of the shared upstream transport and
		// of test clients outlive a test by design.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// metricValue returns the value of the series of family name whose labels
// include all of want ("k=v"), summed over matching series; histograms
// give their sample count.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, want ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for _, w := range want {
				k, v, _ := strings.Cut(w, "=")
				if have[k] != v {
					continue series
				}
			}
			total += value(m)
		}
	}
	return total
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func TestMetrics(t *testing.T) {
	st := newStack(t, stackConfig{
		handler: []Option{WithKeys("sk-gw")},
		fake:    []openaitest.Option{openaitest.WithStreamTiming(0, 0, 2)},
	})
	auth := "Authorization: Bearer sk-gw"
	readAll(t, st.post(t, "/v1/chat/completions", chatBody, auth))
	readAll(t, st.post(t, "/v1/chat/completions", chatBody, auth))
	readAll(t, st.post(t, "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}`, auth))
	readAll(t, st.post(t, "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`, auth))
	readAll(t, st.post(t, "/v1/chat/completions", `{"model":"nope","messages":[]}`, auth))
	readAll(t, st.post(t, "/v1/chat/completions", chatBody))  // 401
	readAll(t, st.post(t, "/v1/chat/completions", `{`, auth)) // 400
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503, Count: 1})
	readAll(t, st.post(t, "/v1/chat/completions", chatBody, auth)) // upstream 503
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 30 * time.Second, Count: 1})
	readAll(t, st.post(t, "/v1/chat/completions", chatBody, auth)) // upstream 429: cooldown

	g := st.metrics.Gatherer()
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"switchyard_requests_total", []string{"model_group=gpt-4o", "endpoint=chat", "stream=false"}, 4},
		{"switchyard_requests_total", []string{"model_group=gpt-4o", "endpoint=chat", "stream=true"}, 1},
		{"switchyard_requests_total", []string{"model_group=text-embedding-3-small", "endpoint=embeddings"}, 1},
		{"switchyard_requests_total", []string{"model_group=unknown"}, 1},
		{"switchyard_request_errors_total", []string{"model_group=unknown", "class=unknown_model"}, 1},
		{"switchyard_request_errors_total", []string{"model_group=gpt-4o", "class=server_error"}, 1},
		{"switchyard_request_errors_total", []string{"model_group=gpt-4o", "class=rate_limited"}, 1},
		{"switchyard_deployment_requests_total", []string{"deployment=gpt-4o-a"}, 5},
		{"switchyard_deployment_errors_total", []string{"deployment=gpt-4o-a", "class=server_error"}, 1},
		{"switchyard_deployment_cooldowns_total", []string{"deployment=gpt-4o-a"}, 1},
		{"switchyard_deployment_available", []string{"deployment=gpt-4o-a"}, 0},
		{"switchyard_deployment_available", []string{"deployment=embed-a"}, 1},
		{"switchyard_request_duration_seconds", []string{"model_group=gpt-4o", "stream=false"}, 4},
		{"switchyard_request_ttft_seconds", []string{"model_group=gpt-4o"}, 1},
		{"switchyard_deployment_ttft_seconds", []string{"deployment=gpt-4o-a"}, 1},
		{"switchyard_handler_refusals_total", []string{"endpoint=chat", "reason=unauthorized"}, 1},
		{"switchyard_handler_refusals_total", []string{"endpoint=chat", "reason=bad_request"}, 1},
	}
	for _, c := range checks {
		if got := metricValue(t, g, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := metricValue(t, g, "switchyard_tokens_total", "deployment=gpt-4o-a", "type=prompt"); got <= 0 {
		t.Errorf("prompt tokens %v, want > 0", got)
	}
	if got := metricValue(t, g, "switchyard_deployment_cooldown_seconds", "deployment=gpt-4o-a"); got <= 0 || got > 30 {
		t.Errorf("cooldown left %v, want in (0, 30]", got)
	}

	// /metrics serves them in the text format, without a key.
	resp := st.get(t, "/metrics")
	body := string(readAll(t, resp))
	if resp.StatusCode != 200 || !strings.Contains(body, `switchyard_requests_total{endpoint="embeddings",model_group="text-embedding-3-small",stream="false"} 1`) {
		t.Errorf("/metrics: %d\n%s", resp.StatusCode, body)
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := NewMetrics(reg)
	b := NewMetrics(reg) // same registry: reuses the collectors
	if a.Err() != nil || b.Err() != nil {
		t.Fatalf("errors %v %v", a.Err(), b.Err())
	}
	b.Hooks().OnRequest(t.Context(), router.RequestInfo{ModelGroup: "g"})
	if got := metricValue(t, reg, "switchyard_requests_total", "model_group=g"); got != 1 {
		t.Errorf("requests through the second Metrics = %v, want 1 in the shared registry", got)
	}
	// A conflicting collector under one of the names is reported.
	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_retries_total", Help: "x"}))
	if m := NewMetrics(reg2); m.Err() == nil {
		t.Error("no error for a conflicting registration")
	}
	// A nil registerer gets a registry of its own.
	if m := NewMetrics(nil); m.Err() != nil || m.Gatherer() == nil {
		t.Errorf("nil registerer: %v", m.Err())
	}
}

func TestJoinHooks(t *testing.T) {
	var got []string
	h := JoinHooks(
		router.Hooks{OnRequest: func(context.Context, router.RequestInfo) { got = append(got, "r1") }},
		router.Hooks{},
		router.Hooks{
			OnRequest:     func(context.Context, router.RequestInfo) { got = append(got, "r2") },
			OnAttempt:     func(context.Context, router.AttemptInfo) { got = append(got, "a2") },
			OnSharedState: func(router.SharedStateEvent) { got = append(got, "s2") },
		},
	)
	h.OnRequest(t.Context(), router.RequestInfo{})
	h.OnAttempt(t.Context(), router.AttemptInfo{})
	h.OnSharedState(router.SharedStateEvent{})
	if strings.Join(got, ",") != "r1,r2,a2,s2" {
		t.Errorf("calls %v", got)
	}
	if e := JoinHooks(); e.OnAttempt != nil || e.OnRequest != nil || e.OnSharedState != nil {
		t.Error("joining nothing gave hooks")
	}
	m := NewMetrics(nil)
	m.Hooks().OnSharedState(router.SharedStateEvent{Component: router.ComponentState, Err: errors.New("down")})
	if v := metricValue(t, m.Gatherer(), "switchyard_shared_state_up", "component=state"); v != 0 {
		t.Errorf("shared state up = %v during an outage", v)
	}
}

func TestReadinessEndpoint(t *testing.T) {
	st := newStack(t, stackConfig{})
	resp := st.get(t, "/health/readiness")
	var rd Readiness
	if err := json.Unmarshal(readAll(t, resp), &rd); err != nil || resp.StatusCode != 200 || rd.Status != "ready" {
		t.Fatalf("readiness %d %+v %v", resp.StatusCode, rd, err)
	}
	var names []string
	for _, g := range rd.ModelGroups {
		names = append(names, g.Name)
		if g.Available != 1 || len(g.Deployments) != 1 || g.Deployments[0].Status != "ok" {
			t.Errorf("group %+v", g)
		}
	}
	if !sort.StringsAreSorted(names) || len(names) != 3 {
		t.Errorf("groups %v", names)
	}
	// Every deployment cooling down: 503.
	for _, d := range st.rt.Deployments() {
		d.SetCooldown(time.Now().Add(time.Minute), "test")
	}
	resp = st.get(t, "/health/readiness")
	_ = json.Unmarshal(readAll(t, resp), &rd)
	if resp.StatusCode != http.StatusServiceUnavailable || rd.Status != "unavailable" {
		t.Errorf("all cooling down: %d %q", resp.StatusCode, rd.Status)
	}
	// Liveness does not care.
	if resp := st.get(t, "/health"); resp.StatusCode != 200 {
		t.Errorf("liveness %d", resp.StatusCode)
	}
}

func TestTagRoutingOff(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithTagRouting(false)}})
	// No deployment carries "paid": with tag routing on this would be
	// refused; off, the tags are only removed from the body.
	resp := st.post(t, "/v1/chat/completions", `{"model":"gpt-4o","metadata":{"tags":["paid"],"k":"v"},"messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp)
	rr, _ := st.fake.LastRequest()
	if resp.StatusCode != 200 || strings.Contains(string(rr.Body), "tags") || !strings.Contains(string(rr.Body), `"metadata":{"k":"v"}`) {
		t.Errorf("status %d, upstream body %s", resp.StatusCode, rr.Body)
	}
}

func TestNilRouter(t *testing.T) {
	h := New(nil)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/v1/chat/completions", 503},
		{"GET", "/v1/models", 200},
		{"GET", "/health", 200},
		{"GET", "/health/readiness", 503},
		{"GET", "/metrics", 404},
	} {
		w := &recorder{h: http.Header{}}
		req, _ := http.NewRequest(tt.method, tt.path, strings.NewReader(chatBody))
		h.ServeHTTP(w, req)
		if w.status != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.status, tt.want)
		}
	}
}

type recorder struct {
	h      http.Header
	status int
	body   strings.Builder
}

func (w *recorder) Header() http.Header         { return w.h }
func (w *recorder) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *recorder) WriteHeader(s int)           { w.status = s }
