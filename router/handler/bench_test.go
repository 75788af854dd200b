package handler

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

const benchBody = `{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello to the benchmark, briefly."}],"max_tokens":32,"temperature":0.2}`

// benchGateway is a gateway in front of a fast fake upstream on loopback,
// with metrics and a key, as it would run.
func benchGateway(b *testing.B) (fake *openaitest.Server, gw *httptest.Server) {
	b.Helper()
	fake = openaitest.NewServer(openaitest.WithHistory(0))
	b.Cleanup(fake.Close)
	m := NewMetrics(prometheus.NewRegistry())
	rt, err := router.New(router.Config{
		Deployments: []deployment.Config{{ID: "a", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-up", BaseURL: fake.URL}},
		Settings:    router.Settings{NumRetries: zero()},
	}, router.WithHooks(m.Hooks()))
	if err != nil {
		b.Fatal(err)
	}
	gw = httptest.NewServer(New(rt, WithMetrics(m), WithKeys("sk-bench")))
	b.Cleanup(gw.Close)
	return fake, gw
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, MaxConnsPerHost: 0}}
}

// post sends the benchmark's chat request and reads the answer.
func benchPost(c *http.Client, url, key string) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(benchBody))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return &provider.Error{StatusCode: resp.StatusCode, Message: "status " + resp.Status}
	}
	return err
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkGateway measures what the gateway adds to a non-streaming chat
// completion against the fast fake upstream on loopback, compared with
// calling the fake directly in the same run:
//
//   - latency: one caller alternates a direct call and a call through the
//     gateway; reports the p50 and p99 of each and the difference
//     (added-p50-µs, added-p99-µs).
//   - throughput/direct and throughput/gateway: many concurrent callers;
//     reports req/s and the process's CPU time per request (client, fake
//     and gateway together share the machine). The gateway's own cost is
//     the difference of cpu-µs/req between the two; 2e6 divided by it is
//     the rate two dedicated cores would sustain.
//
// Run with -cpu 2 for the 2-core target.
func BenchmarkGateway(b *testing.B) {
	fake, gw := benchGateway(b)
	direct, via := fake.URL+"/chat/completions", gw.URL+"/v1/chat/completions"

	b.Run("latency", func(b *testing.B) {
		c := benchClient()
		defer c.CloseIdleConnections()
		var dd, gd []time.Duration
		for b.Loop() {
			t0 := time.Now()
			if err := benchPost(c, direct, "sk-up"); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := benchPost(c, via, "sk-bench"); err != nil {
				b.Fatal(err)
			}
			dd = append(dd, t1.Sub(t0))
			gd = append(gd, time.Since(t1))
		}
		d50, d99, g50, g99 := percentile(dd, .5), percentile(dd, .99), percentile(gd, .5), percentile(gd, .99)
		b.ReportMetric(us(d50), "direct-p50-µs")
		b.ReportMetric(us(g50), "gateway-p50-µs")
		b.ReportMetric(us(g50-d50), "added-p50-µs")
		b.ReportMetric(us(g99-d99), "added-p99-µs")
	})
	for _, tt := range []struct{ name, url, key string }{{"direct", direct, "sk-up"}, {"gateway", via, "sk-bench"}} {
		b.Run("throughput/"+tt.name, func(b *testing.B) {
			c := benchClient()
			defer c.CloseIdleConnections()
			b.SetParallelism(16)
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := benchPost(c, tt.url, tt.key); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(us(cpu)/float64(b.N), "cpu-µs/req")
			}
		})
	}
}

// stubClient answers every call at once with a fixed chat completion, so
// that BenchmarkServeHTTP measures the handler and router alone.
type stubClient struct{ resp provider.Response }

func (s *stubClient) Do(context.Context, *provider.Request) (*provider.Response, error) {
	r := s.resp
	r.Header = r.Header.Clone() // the router owns (and annotates) the header a client returns
	return &r, nil
}

func (s *stubClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest, Message: "no streams"}
}

// BenchmarkServeHTTP measures the handler's own cost per non-streaming
// request (auth, body read, field extraction, routing, metrics hooks,
// writing the answer) with an in-memory upstream and no network.
func BenchmarkServeHTTP(b *testing.B) {
	stub := &stubClient{resp: provider.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Ratelimit-Remaining-Requests": {"99"}, "X-Request-Id": {"req_1"}},
		Body:       []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}`),
		Usage:      provider.Usage{PromptTokens: 20, CompletionTokens: 2, TotalTokens: 22},
	}}
	m := NewMetrics(prometheus.NewRegistry())
	rt, err := router.New(router.Config{
		Deployments: []deployment.Config{
			{ID: "a", ModelName: "gpt-4o", Model: "openai/gpt-4o"},
			{ID: "b", ModelName: "gpt-4o", Model: "openai/gpt-4o"},
		},
	}, router.WithHooks(m.Hooks()), router.WithClientFactory(func(deployment.Config) (provider.Client, error) { return stub, nil }))
	if err != nil {
		b.Fatal(err)
	}
	h := New(rt, WithMetrics(m), WithKeys("sk-bench"))
	body := []byte(benchBody)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", rd)
		req.Header.Set("Authorization", "Bearer sk-bench")
		for pb.Next() {
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
			clear(w.h)
			w.status = 0
			h.ServeHTTP(w, req)
			if w.status != 200 {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
