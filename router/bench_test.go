package router

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// noopClient answers every call with a copy of the same response. Like a
// real client it hands the caller a response (and header map) of its own, as
// provider.Client requires; the direct benchmark pays for that copy too, so
// the difference is the router's work alone.
type noopClient struct{ resp *provider.Response }

func (c noopClient) Do(context.Context, *provider.Request) (*provider.Response, error) {
	r := *c.resp
	r.Header = c.resp.Header.Clone()
	return &r, nil
}

func (c noopClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest}
}

func newNoop() noopClient {
	return noopClient{resp: &provider.Response{
		StatusCode: 200,
		// The headers OpenAI sends with every answer, rate limits included,
		// so that header copying and rate-limit parsing are measured.
		Header: http.Header{
			"Content-Type":                   {"application/json"},
			"Date":                           {"Wed, 25 Nov 2026 17:00:00 GMT"},
			"X-Request-Id":                   {"req-123"},
			"Openai-Processing-Ms":           {"412"},
			"Openai-Version":                 {"2020-10-01"},
			"Openai-Organization":            {"org-x"},
			"X-Ratelimit-Limit-Requests":     {"10000"},
			"X-Ratelimit-Limit-Tokens":       {"2000000"},
			"X-Ratelimit-Remaining-Requests": {"9999"},
			"X-Ratelimit-Remaining-Tokens":   {"1999000"},
			"X-Ratelimit-Reset-Requests":     {"6ms"},
			"X-Ratelimit-Reset-Tokens":       {"30ms"},
		},
		Body: []byte(`{"id":"x","choices":[]}`),
	}}
}

// BenchmarkRouterOverhead compares a call through the router (three
// deployments in the group, each strategy) with a direct call to the same
// in-memory client. The difference is the router's overhead, including
// copying the upstream's twelve headers and reading its rate-limit headers;
// router/no-headers leaves those out.
func BenchmarkRouterOverhead(b *testing.B) {
	client := newNoop()
	req := chatReq("g")
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Do(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, strat := range []string{"simple-shuffle", "least-busy", "usage-based-routing", "latency-based-routing"} {
		b.Run("router/"+strat, func(b *testing.B) {
			r, err := New(Config{Deployments: grp("g", "a", "b", "c"), Settings: Settings{RoutingStrategy: strat}},
				WithClientFactory(func(deployment.Config) (provider.Client, error) { return client, nil }),
				WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Do(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("router/no-headers", func(b *testing.B) {
		bare := noopClient{resp: &provider.Response{StatusCode: 200, Body: client.resp.Body}}
		r, err := New(Config{Deployments: grp("g", "a", "b", "c")},
			WithClientFactory(func(deployment.Config) (provider.Client, error) { return bare, nil }),
			WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Do(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("router/parallel", func(b *testing.B) {
		r, err := New(Config{Deployments: grp("g", "a", "b", "c")},
			WithClientFactory(func(deployment.Config) (provider.Client, error) { return client, nil }),
			WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
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
}

// BenchmarkCheckRequest is the cost of rejecting the caller's mistakes
// before routing: the body's JSON is validated on every call.
func BenchmarkCheckRequest(b *testing.B) {
	req := &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o", Body: []byte(
		`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},` +
			`{"role":"user","content":"Say hello in one short sentence, please, and be nice about it."}],"max_tokens":64,"temperature":0.2}`)}
	b.SetBytes(int64(len(req.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := checkRequest(req, false); err != nil {
			b.Fatal(err)
		}
	}
}
