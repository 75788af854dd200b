package bench

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// noopClient is an in-memory provider.Client that answers at once with a
// fixed response (with OpenAI's rate-limit headers, which the router
// parses) or a fixed stream, so that a call through the router costs the
// router's work alone. As provider.Client requires, every answer has a
// Response and header of its own (the router adds its headers to them in
// place); making them is the client's cost, paid by the direct calls too.
type noopClient struct {
	resp   *provider.Response
	events []provider.Event
}

func newNoopClient() *noopClient {
	return &noopClient{
		resp: &provider.Response{
			StatusCode: 200,
			Header: http.Header{
				"Content-Type":                   {"application/json"},
				"X-Request-Id":                   {"req-1"},
				"X-Ratelimit-Limit-Requests":     {"10000"},
				"X-Ratelimit-Remaining-Requests": {"9999"},
				"X-Ratelimit-Reset-Requests":     {"6ms"},
			},
			Body:  []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}`),
			Usage: provider.Usage{PromptTokens: 9, CompletionTokens: 1, TotalTokens: 10},
		},
		events: []provider.Event{
			{Data: []byte(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"o"}}]}`)},
			{Data: []byte(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"k"},"finish_reason":"stop"}]}`)},
		},
	}
}

func (c *noopClient) Do(context.Context, *provider.Request) (*provider.Response, error) {
	r := *c.resp
	r.Header = r.Header.Clone()
	return &r, nil
}

func (c *noopClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return &noopStream{hdr: c.resp.Header.Clone(), events: c.events, i: -1}, nil
}

type noopStream struct {
	hdr    http.Header
	events []provider.Event
	i      int
}

func (s *noopStream) Header() http.Header   { return s.hdr }
func (s *noopStream) Next() bool            { s.i++; return s.i < len(s.events) }
func (s *noopStream) Event() provider.Event { return s.events[s.i] }
func (s *noopStream) Usage() provider.Usage { return provider.Usage{} }
func (s *noopStream) Err() error            { return nil }
func (s *noopStream) Close() error          { return nil }

// threeKeys is a model group of three deployments, as a small production
// setup has.
func threeKeys(baseURL string, hc *http.Client) []deployment.Config {
	var deps []deployment.Config
	for _, k := range []string{"sk-a", "sk-b", "sk-c"} {
		deps = append(deps, deployment.Config{
			ID: k, ModelName: "g", Model: "openai/gpt-4o-mini", APIKey: k, BaseURL: baseURL, HTTPClient: hc,
		})
	}
	return deps
}

// BenchmarkOverhead compares a call through the router (a group of three
// deployments, default settings) with the same call made directly on a
// deployment's client, so that router minus direct is the router's cost
// per request:
//
//   - noop: an in-memory client that answers at once;
//   - http: the OpenAI client of provider/openai talking to the fake
//     upstream of provider/openaitest over loopback HTTP.
//
// "do" is a non-streaming call; "stream" opens a stream, reads its first
// event (ttfc_ns: time to first chunk) and the rest, and closes it.
func BenchmarkOverhead(b *testing.B) {
	ctx := context.Background()
	noop := newNoopClient()
	noopFactory := router.WithClientFactory(func(deployment.Config) (provider.Client, error) { return noop, nil })

	srv := openaitest.NewServer(openaitest.WithHistory(0))
	defer srv.Close()
	hc := &http.Client{Transport: openai.NewTransport()}
	defer hc.CloseIdleConnections()
	direct, err := openai.New(openai.Config{Model: "openai/gpt-4o-mini", APIKey: "sk-a", BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		b.Fatal(err)
	}

	for _, tr := range []struct {
		name   string
		client provider.Client
		opts   []router.Option
	}{
		{"noop", noop, []router.Option{noopFactory}},
		{"http", direct, nil},
	} {
		r, err := router.New(router.Config{Deployments: threeKeys(srv.URL, hc)}, append(tr.opts, quiet())...)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		b.Run(tr.name+"/do/direct", func(b *testing.B) {
			req := chatRequest("g", "hi")
			b.ReportAllocs()
			for b.Loop() {
				res, err := tr.client.Do(ctx, req)
				if err != nil || res.StatusCode != 200 {
					b.Fatal(res, err)
				}
			}
		})
		b.Run(tr.name+"/do/router", func(b *testing.B) {
			req := chatRequest("g", "hi")
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.Do(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if res.StatusCode != 200 || res.ModelGroup != "g" || r.Deployment(res.Deployment) == nil ||
					(tr.name == "http" && !bytes.Contains(res.Body, []byte("echo: hi"))) {
					b.Fatalf("wrong answer from %s: %d %s", res.Deployment, res.StatusCode, res.Body)
				}
			}
		})
		b.Run(tr.name+"/do/direct-parallel", func(b *testing.B) {
			req := chatRequest("g", "hi")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := tr.client.Do(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(tr.name+"/do/router-parallel", func(b *testing.B) {
			req := chatRequest("g", "hi")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Do(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		{
			// The difference of two means is at the mercy of load that
			// changes between sub-benchmarks (and of GC pauses); alternating
			// the two calls and comparing medians is not.
			b.Run(tr.name+"/do/paired", func(b *testing.B) {
				req := chatRequest("g", "hi")
				benchPaired(b, func() error { _, err := tr.client.Do(ctx, req); return err },
					func() error { _, err := r.Do(ctx, req); return err })
			})
			b.Run(tr.name+"/stream/paired", func(b *testing.B) {
				dreq := chatRequest("g", "hi")
				dreq.Stream = true
				rreq := chatRequest("g", "hi")
				first := func(open func() (provider.Stream, error)) error {
					s, err := open()
					if err != nil {
						return err
					}
					defer s.Close()
					if !s.Next() {
						return s.Err()
					}
					for s.Next() {
					}
					return s.Err()
				}
				benchPaired(b,
					func() error { return first(func() (provider.Stream, error) { return tr.client.Stream(ctx, dreq) }) },
					func() error { return first(func() (provider.Stream, error) { return r.Stream(ctx, rreq) }) })
			})
		}
		b.Run(tr.name+"/stream/direct", func(b *testing.B) {
			req := chatRequest("g", "hi")
			req.Stream = true
			benchStream(b, func() (provider.Stream, error) { return tr.client.Stream(ctx, req) })
		})
		b.Run(tr.name+"/stream/router", func(b *testing.B) {
			req := chatRequest("g", "hi")
			benchStream(b, func() (provider.Stream, error) { return r.Stream(ctx, req) })
		})
	}
}

// benchStream opens, reads and closes a stream per op, reporting the mean
// time to the first event as ttfc_ns.
func benchStream(b *testing.B, open func() (provider.Stream, error)) {
	b.Helper()
	var ttfc time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		s, err := open()
		if err != nil {
			b.Fatal(err)
		}
		if !s.Next() {
			b.Fatalf("no first event: %v", s.Err())
		}
		ttfc += time.Since(start)
		n := 1
		for s.Next() {
			n++
		}
		if err := s.Err(); err != nil || n < 2 {
			b.Fatalf("%d events, err %v", n, err)
		}
		_ = s.Close()
	}
	b.ReportMetric(float64(ttfc.Nanoseconds())/float64(b.N), "ttfc_ns")
}

// benchPaired runs direct and routed once per op, in alternating order,
// and reports the median of each (direct_p50_ns, router_p50_ns) and their
// difference (overhead_p50_ns).
func benchPaired(b *testing.B, direct, routed func() error) {
	b.Helper()
	var d, r []time.Duration
	timed := func(f func() error, into *[]time.Duration) {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(start))
	}
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 {
			timed(direct, &d)
			timed(routed, &r)
		} else {
			timed(routed, &r)
			timed(direct, &d)
		}
	}
	dp, rp := percentile(d, 0.5), percentile(r, 0.5)
	b.ReportMetric(float64(dp.Nanoseconds()), "direct_p50_ns")
	b.ReportMetric(float64(rp.Nanoseconds()), "router_p50_ns")
	b.ReportMetric(float64((rp - dp).Nanoseconds()), "overhead_p50_ns")
}
