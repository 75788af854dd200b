package handler

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// Metrics are Prometheus collectors for a router, fed by its hooks: per
// model group and deployment request counts, errors by class, latency and
// time-to-first-token histograms, tokens, spend, cooldowns, retry-budget
// refusals, response cache
// hits and shared-state outages, plus gauges read from the router at scrape
// time (in-flight calls, availability, cooldown left). Make them with
// NewMetrics, pass Hooks to router.WithHooks, and give them to the handler
// with WithMetrics, which serves them and points the gauges at its router.
// Safe for concurrent use.
//
// Label values are model group names and deployment IDs from the router's
// configuration, never what a client sent, so a client cannot blow up the
// number of series.
type Metrics struct {
	// immutable after NewMetrics
	gatherer prometheus.Gatherer
	http     http.Handler
	err      error

	requests        *prometheus.CounterVec
	requestErrors   *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	requestTTFT     *prometheus.HistogramVec
	retries         *prometheus.CounterVec
	fallbacks       *prometheus.CounterVec
	budgetRefusals  *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	attemptErrors   *prometheus.CounterVec
	attemptLatency  *prometheus.HistogramVec
	attemptTTFT     *prometheus.HistogramVec
	tokens          *prometheus.CounterVec
	spend           *prometheus.CounterVec
	cooldowns       *prometheus.CounterVec
	cacheHits       *prometheus.CounterVec
	sharedUp        *prometheus.GaugeVec

	router atomic.Pointer[router.Router] // the handler's, for the gauges
}

// Latency buckets, in seconds: LLM calls take from milliseconds (a cache,
// an embedding) to minutes (a long reasoning answer).
var (
	latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}
	ttftBuckets    = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30}
)

// NewMetrics makes the collectors and registers them with reg (a new
// registry when reg is nil). /metrics (see WithMetrics and ServeHTTP)
// serves reg when it is also a prometheus.Gatherer (as a
// *prometheus.Registry is), else the collectors alone. Registering twice
// with the same registry reuses the collectors already there; any other
// registration failure is kept in Err, and the metrics still count.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	own := prometheus.NewRegistry()
	if reg == nil {
		reg = own
	}
	group := []string{"model_group"}
	m.requests = counter(m, reg, own, "switchyard_requests_total", "Requests routed, by model group, endpoint and whether streamed.", "model_group", "endpoint", "stream")
	m.requestErrors = counter(m, reg, own, "switchyard_request_errors_total", "Requests that failed, by model group, endpoint and error class.", "model_group", "endpoint", "class")
	m.requestDuration = histogram(m, reg, own, "switchyard_request_duration_seconds", "Time from a request's start to its answer (for streams, to their end), retries and fallbacks included.", latencyBuckets, "model_group", "endpoint", "stream")
	m.requestTTFT = histogram(m, reg, own, "switchyard_request_ttft_seconds", "Time from a streaming request's start to its first event.", ttftBuckets, "model_group", "endpoint")
	m.retries = counter(m, reg, own, "switchyard_retries_total", "Retries within model groups.", group...)
	m.fallbacks = counter(m, reg, own, "switchyard_fallbacks_total", "Fallback model groups tried, by the requested group.", group...)
	m.budgetRefusals = counter(m, reg, own, "switchyard_retry_budget_refusals_total", "Requests that failed because the router's retry budget refused them a retry, by the requested model group.", group...)
	m.refusals = counter(m, reg, own, "switchyard_handler_refusals_total", "Requests the HTTP handler refused before routing, by endpoint and reason.", "endpoint", "reason")
	m.attempts = counter(m, reg, own, "switchyard_deployment_requests_total", "Upstream calls, by model group and deployment.", "model_group", "deployment")
	m.attemptErrors = counter(m, reg, own, "switchyard_deployment_errors_total", "Upstream calls that failed, by model group, deployment and error class.", "model_group", "deployment", "class")
	m.attemptLatency = histogram(m, reg, own, "switchyard_deployment_latency_seconds", "Duration of upstream calls (streams: until they end).", latencyBuckets, "model_group", "deployment", "stream")
	m.attemptTTFT = histogram(m, reg, own, "switchyard_deployment_ttft_seconds", "Time to first event of upstream streams.", ttftBuckets, "model_group", "deployment")
	m.tokens = counter(m, reg, own, "switchyard_tokens_total", "Tokens reported by upstreams, by type: prompt, completion, cached, reasoning.", "model_group", "deployment", "type")
	m.spend = counter(m, reg, own, "switchyard_spend_usd_total", "Cost of the usage at the deployments' configured prices, in US dollars.", "model_group", "deployment")
	m.cooldowns = counter(m, reg, own, "switchyard_deployment_cooldowns_total", "Times a deployment went into cooldown.", "model_group", "deployment")
	m.cacheHits = counter(m, reg, own, "switchyard_cache_hits_total", "Requests answered from the response cache, by model group and endpoint (see also switchyard_requests_total).", "model_group", "endpoint")
	m.sharedUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchyard_shared_state_up",
		Help: "1 while shared router state (component state) or the response cache (response-cache) works, 0 during an outage."}, []string{"component"})
	if existing, ok := m.register(reg, own, m.sharedUp).(*prometheus.GaugeVec); ok {
		m.sharedUp = existing
	}
	m.register(reg, own, &stateCollector{m: m})

	m.gatherer = own
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	m.http = promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
	return m
}

func counter(m *Metrics, reg, own prometheus.Registerer, name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	if existing, ok := m.register(reg, own, c).(*prometheus.CounterVec); ok {
		return existing
	}
	return c
}

func histogram(m *Metrics, reg, own prometheus.Registerer, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	if existing, ok := m.register(reg, own, h).(*prometheus.HistogramVec); ok {
		return existing
	}
	return h
}

// register registers c with own and reg, returning the collector to use:
// c, or the one reg already had under that name.
func (m *Metrics) register(reg, own prometheus.Registerer, c prometheus.Collector) prometheus.Collector {
	if reg != own {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				c = are.ExistingCollector
			} else if m.err == nil {
				m.err = err
			}
		}
	}
	if err := own.Register(c); err != nil && m.err == nil {
		m.err = err
	}
	return c
}

// Err reports the first failure to register a collector, nil when all
// were registered.
func (m *Metrics) Err() error { return m.err }

// ServeHTTP serves the metrics in Prometheus' text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.http.ServeHTTP(w, r) }

// Gatherer returns the gatherer /metrics serves.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.gatherer }

// watch gives the metrics the router whose deployments the gauges read at
// scrape time (WithMetrics does it for the handler's router).
func (m *Metrics) watch(r *router.Router) {
	if r != nil {
		m.router.Store(r)
	}
}

// Hooks returns the router hooks that feed the metrics. Combine them with
// other hooks with JoinHooks.
func (m *Metrics) Hooks() router.Hooks {
	return router.Hooks{OnAttempt: m.onAttempt, OnRequest: m.onRequest, OnSharedState: m.onSharedState}
}

func (m *Metrics) onSharedState(ev router.SharedStateEvent) {
	up := 1.0
	if ev.Err != nil {
		up = 0
	}
	m.sharedUp.WithLabelValues(ev.Component).Set(up)
}

// refused counts a request the handler turned away.
func (m *Metrics) refused(ep provider.Endpoint, reason string) {
	m.refusals.WithLabelValues(ep.String(), reason).Inc()
}

func (m *Metrics) onRequest(_ context.Context, info router.RequestInfo) {
	group := info.ModelGroup
	if group == "" {
		group = failedGroup(info.Err)
	}
	ep := info.Endpoint.String()
	stream := strconv.FormatBool(info.Stream)
	m.requests.WithLabelValues(group, ep, stream).Inc()
	m.requestDuration.WithLabelValues(group, ep, stream).Observe(info.Latency.Seconds())
	if info.Stream && info.TTFT > 0 {
		m.requestTTFT.WithLabelValues(group, ep).Observe(info.TTFT.Seconds())
	}
	if info.Err != nil {
		m.requestErrors.WithLabelValues(group, ep, errorClass(info.Err)).Inc()
	}
	if info.CacheHit {
		m.cacheHits.WithLabelValues(group, ep).Inc()
	}
	if info.Retries > 0 {
		m.retries.WithLabelValues(group).Add(float64(info.Retries))
	}
	if info.Fallbacks > 0 {
		m.fallbacks.WithLabelValues(group).Add(float64(info.Fallbacks))
	}
	if info.BudgetRefused {
		m.budgetRefusals.WithLabelValues(group).Inc()
	}
}

func (m *Metrics) onAttempt(_ context.Context, info router.AttemptInfo) {
	g, d := info.ModelGroup, info.Deployment
	m.attempts.WithLabelValues(g, d).Inc()
	m.attemptLatency.WithLabelValues(g, d, strconv.FormatBool(info.Stream)).Observe(info.Latency.Seconds())
	if info.Stream && info.TTFT > 0 {
		m.attemptTTFT.WithLabelValues(g, d).Observe(info.TTFT.Seconds())
	}
	if !info.Cooldown.IsZero() {
		m.cooldowns.WithLabelValues(g, d).Inc()
	}
	if info.Err != nil {
		m.attemptErrors.WithLabelValues(g, d, info.Class.String()).Inc()
		return
	}
	u := info.Usage
	for _, t := range [...]struct {
		typ string
		n   int
	}{{"prompt", u.PromptTokens}, {"completion", u.CompletionTokens}, {"cached", u.CachedTokens}, {"reasoning", u.ReasoningTokens}} {
		if t.n > 0 {
			m.tokens.WithLabelValues(g, d, t.typ).Add(float64(t.n))
		}
	}
	if info.Cost > 0 {
		m.spend.WithLabelValues(g, d).Add(info.Cost)
	}
}

// failedGroup names the model group of a request that failed: the group of
// its first attempt (the requested one) or the first group found
// unavailable, "unknown" when the model was not known.
func failedGroup(err error) string {
	var re *router.Error
	if errors.As(err, &re) {
		if n := len(re.Attempts); n > 0 {
			return re.Attempts[0].ModelGroup
		}
		if len(re.Unavailable) > 0 {
			return re.Unavailable[0].ModelGroup
		}
	}
	return "unknown"
}

// errorClass names the class of a request's error for the errors metric:
// a provider.Class name, or unknown_model, no_deployment,
// all_cooling_down, closed.
func errorClass(err error) string {
	cause := err
	var re *router.Error
	if errors.As(err, &re) && re.Err != nil {
		cause = re.Err
	}
	var pe *provider.Error
	switch {
	case errors.As(cause, &pe):
		return pe.Class.String()
	case errors.Is(cause, router.ErrAllCoolingDown):
		return "all_cooling_down"
	case errors.Is(cause, router.ErrNoDeployment):
		return "no_deployment"
	case errors.Is(cause, router.ErrUnknownModel):
		return "unknown_model"
	case errors.Is(cause, router.ErrClosed):
		return "closed"
	}
	return provider.ClassOf(cause).String()
}

// stateCollector reports the watched router's deployments at scrape time.
type stateCollector struct{ m *Metrics }

var (
	inFlightDesc = prometheus.NewDesc("switchyard_deployment_in_flight",
		"Upstream calls in flight.", []string{"model_group", "deployment"}, nil)
	availableDesc = prometheus.NewDesc("switchyard_deployment_available",
		"1 when the deployment can take a request now, else 0.", []string{"model_group", "deployment"}, nil)
	cooldownDesc = prometheus.NewDesc("switchyard_deployment_cooldown_seconds",
		"Cooldown left, 0 when not cooling down.", []string{"model_group", "deployment"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inFlightDesc
	ch <- availableDesc
	ch <- cooldownDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.m.router.Load()
	if r == nil {
		return
	}
	now := r.Clock().Now()
	for _, d := range r.Deployments() {
		g, id := d.Config().ModelName, d.ID()
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(d.InFlight()), g, id)
		avail := 0.0
		if d.Available(now, 0) == deployment.ReasonOK {
			avail = 1
		}
		ch <- prometheus.MustNewConstMetric(availableDesc, prometheus.GaugeValue, avail, g, id)
		left := max(d.CooldownUntil().Sub(now), 0)
		ch <- prometheus.MustNewConstMetric(cooldownDesc, prometheus.GaugeValue, left.Seconds(), g, id)
	}
}

// JoinHooks returns hooks that run each of hs's hooks in turn, skipping
// nil ones: the way to feed Metrics and a logger or tracer at once.
func JoinHooks(hs ...router.Hooks) router.Hooks {
	var (
		attempt []func(context.Context, router.AttemptInfo)
		request []func(context.Context, router.RequestInfo)
		shared  []func(context.Context, router.SharedStateEvent)
	)
	for _, h := range hs {
		if h.OnAttempt != nil {
			attempt = append(attempt, h.OnAttempt)
		}
		if h.OnRequest != nil {
			request = append(request, h.OnRequest)
		}
		if f := h.OnSharedState; f != nil {
			shared = append(shared, func(_ context.Context, ev router.SharedStateEvent) { f(ev) })
		}
	}
	out := router.Hooks{OnAttempt: joinFuncs(attempt), OnRequest: joinFuncs(request)}
	if f := joinFuncs(shared); f != nil {
		out.OnSharedState = func(ev router.SharedStateEvent) { f(context.Background(), ev) }
	}
	return out
}

// joinFuncs returns one function that calls each of fs in order: nil for
// none, the function itself for one.
func joinFuncs[T any](fs []func(context.Context, T)) func(context.Context, T) {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return func(ctx context.Context, v T) {
		for _, f := range fs {
			f(ctx, v)
		}
	}
}
