package router_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// hookLog records what the hooks saw.
type hookLog struct {
	mu       sync.Mutex
	attempts []router.AttemptInfo
	requests []router.RequestInfo
}

func (l *hookLog) hooks() router.Hooks {
	return router.Hooks{
		OnAttempt: func(_ context.Context, a router.AttemptInfo) {
			l.mu.Lock()
			l.attempts = append(l.attempts, a)
			l.mu.Unlock()
		},
		OnRequest: func(_ context.Context, r router.RequestInfo) {
			l.mu.Lock()
			l.requests = append(l.requests, r)
			l.mu.Unlock()
		},
	}
}

func (l *hookLog) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.attempts), len(l.requests)
}

func embed(model string, pass bool) *provider.Request {
	return &provider.Request{Endpoint: provider.EndpointEmbeddings, Model: model, PassThrough: pass,
		Body: []byte(`{"model":"` + model + `","input":["some text to embed"]}`)}
}

func passRouter(t *testing.T, srv *openaitest.Server, cfg router.Config, opts ...router.Option) (*router.Router, *hookLog) {
	t.Helper()
	if cfg.Deployments == nil {
		cfg.Deployments = []deployment.Config{keyDep(srv, "emb", "a", "sk-a"), keyDep(srv, "emb", "b", "sk-b")}
	}
	log := &hookLog{}
	r, err := router.New(cfg, append([]router.Option{quiet(), router.WithHooks(log.hooks())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, log
}

const bigAnswer = 1 << 20

func TestPassThroughServesAndAccounts(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: bigAnswer}))
	defer srv.Close()
	r, log := passRouter(t, srv, router.Config{})
	res, err := r.Do(t.Context(), embed("emb", true))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reader == nil || res.Body != nil {
		t.Fatalf("reader %v, %d body bytes: want the answer passed through", res.Reader, len(res.Body))
	}
	d := r.Deployment(res.Deployment)
	if a, q := log.counts(); a != 0 || q != 0 || d.InFlight() != 1 {
		t.Fatalf("before the body is read: %d attempt and %d request hooks, %d in flight; want 0, 0, 1", a, q, d.InFlight())
	}
	if len(res.Attempts) != 1 || res.Attempts[0].StatusCode != 200 || res.Header.Get(router.HeaderDeployment) != res.Deployment {
		t.Errorf("attempts %+v, header %v", res.Attempts, res.Header)
	}
	n, err := io.Copy(io.Discard, res.Reader)
	if err != nil || n < bigAnswer {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	_ = res.Reader.Close()
	if d.InFlight() != 0 {
		t.Errorf("%d in flight after the end", d.InFlight())
	}
	if res.Usage.PromptTokens == 0 {
		t.Errorf("Result.Usage %+v: want the answer's usage", res.Usage)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.attempts) != 1 || len(log.requests) != 1 {
		t.Fatalf("%d attempt and %d request hooks, want 1 each", len(log.attempts), len(log.requests))
	}
	if ai, ri := log.attempts[0], log.requests[0]; ai.Usage != res.Usage || ri.Usage != res.Usage || ai.Err != nil || ri.Err != nil ||
		ai.ClosedEarly || ai.Deployment != res.Deployment || ai.StatusCode != 200 {
		t.Errorf("hooks saw attempt %+v, request %+v; want usage %+v", ai, ri, res.Usage)
	}
}

func TestPassThroughCutIsNotRetried(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: bigAnswer}))
	defer srv.Close()
	r, log := passRouter(t, srv, router.Config{})
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultBodyCut, Count: 1})
	res, err := r.Do(t.Context(), embed("emb", true))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, res.Reader)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.ClassConnection || pe.Deployment != res.Deployment {
		t.Fatalf("error %v: want the connection error naming %s", err, res.Deployment)
	}
	_ = res.Reader.Close()
	if got := srv.Stats().Requests; got != 1 {
		t.Errorf("%d upstream requests: a body that failed while it flowed must not be retried", got)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.attempts) != 1 || log.attempts[0].Err == nil || len(log.requests) != 1 || log.requests[0].Err == nil {
		t.Errorf("hooks: attempts %+v, requests %+v; want one failed attempt and request", log.attempts, log.requests)
	}
}

func TestPassThroughRetriesBeforeTheBody(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: bigAnswer}))
	defer srv.Close()
	r, _ := passRouter(t, srv, router.Config{})
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503, Count: 1})
	res, err := r.Do(t.Context(), embed("emb", true))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Reader.Close()
	if len(res.Attempts) != 2 || res.Attempts[0].StatusCode != 503 || res.Reader == nil {
		t.Errorf("attempts %+v, reader %v: want a 503 retried, then the body passed through", res.Attempts, res.Reader)
	}
}

func TestPassThroughCloseEarly(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 4 * bigAnswer}))
	defer srv.Close()
	r, log := passRouter(t, srv, router.Config{})
	res, err := r.Do(t.Context(), embed("emb", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Reader.Read(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	_ = res.Reader.Close()
	_ = res.Reader.Close()
	if n := r.Deployment(res.Deployment).InFlight(); n != 0 {
		t.Errorf("%d in flight after Close", n)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.attempts) != 1 || !log.attempts[0].ClosedEarly || log.attempts[0].Err != nil || len(log.requests) != 1 || !log.requests[0].ClosedEarly {
		t.Errorf("hooks: %+v %+v; want one attempt and request closed early", log.attempts, log.requests)
	}
}

// What needs the whole body gets it: the response cache that stores the
// answer, a content-policy fallback check.
func TestPassThroughWhenTheBodyIsNeeded(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: bigAnswer}))
	defer srv.Close()
	t.Run("response cache", func(t *testing.T) {
		r, _ := passRouter(t, srv, router.Config{}, router.WithResponseCache(respcache.NewMemory(respcache.Config{MaxEntryBytes: 8 << 20}), respcache.Policy{}))
		res, err := r.Do(t.Context(), embed("emb", true))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reader != nil || len(res.Body) < bigAnswer {
			t.Fatalf("reader %v, %d body bytes: a cached call reads the answer whole", res.Reader, len(res.Body))
		}
		again, err := r.Do(t.Context(), embed("emb", true))
		if err != nil || !again.CacheHit || len(again.Body) != len(res.Body) {
			t.Fatalf("second call: %v, hit %v, %d bytes", err, again.CacheHit, len(again.Body))
		}
	})
	t.Run("no-store call passes through", func(t *testing.T) {
		r, _ := passRouter(t, srv, router.Config{}, router.WithResponseCache(respcache.NewMemory(respcache.Config{MaxEntryBytes: 8 << 20}), respcache.Policy{}))
		res, err := r.Do(t.Context(), embed("emb", true), router.WithCacheControl(respcache.Control{NoCache: true, NoStore: true}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reader == nil {
			t.Fatal("a call the cache does not store reads the answer whole")
		}
		_ = res.Reader.Close()
	})
	t.Run("content-policy fallbacks", func(t *testing.T) {
		cfg := router.Config{
			Deployments: []deployment.Config{keyDep(srv, "mini", "a", "sk-a"), keyDep(srv, "safe", "s", "sk-s")},
		}
		cfg.Settings.ContentPolicyFallbacks = map[string][]string{"mini": {"safe"}}
		r, _ := passRouter(t, srv, cfg)
		req := chat("mini")
		req.PassThrough = true
		res, err := r.Do(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reader != nil || len(res.Body) < bigAnswer {
			t.Fatalf("reader %v, %d body bytes: the content-filter check reads the answer whole", res.Reader, len(res.Body))
		}
		// Without a content-policy fallback the same call passes through.
		res, err = r.Do(t.Context(), func() *provider.Request { q := chat("safe"); q.PassThrough = true; return q }())
		if err != nil || res.Reader == nil {
			t.Fatalf("group without content-policy fallbacks: %v, reader %v", err, res.Reader)
		}
		_ = res.Reader.Close()
	})
}

func TestDroppedPassThroughBodyIsClosedByTheCollector(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 4 * bigAnswer}))
	defer srv.Close()
	r, log := passRouter(t, srv, router.Config{})
	var id string
	func() {
		res, err := r.Do(t.Context(), embed("emb", true))
		if err != nil {
			t.Fatal(err)
		}
		id = res.Deployment
		_, _ = res.Reader.Read(make([]byte, 100)) // read a little, then drop it
	}()
	d := r.Deployment(id)
	for i := 0; d.InFlight() != 0 && i < 200; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if d.InFlight() != 0 {
		t.Fatal("a dropped body kept its attempt open")
	}
	if _, q := log.counts(); q != 1 {
		t.Errorf("%d request hooks, want 1", q)
	}
}
