package router

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// noopClient answers every call with the same response, allocating nothing
// itself, so that the benchmark measures the router alone.
type noopClient struct{ resp *provider.Response }

func (c noopClient) Do(context.Context, *provider.Request) (*provider.Response, error) {
	return c.resp, nil
}

func (c noopClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest}
}

func newNoop() noopClient {
	return noopClient{resp: &provider.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req-123"}},
		Body:       []byte(`{"id":"x","choices":[]}`),
	}}
}

// BenchmarkRouterOverhead compares a call through the router (three
// deployments in the group, default strategy) with a direct call to the
// same in-memory client. The difference is the router's overhead.
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
