package router

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// gateClient: the 1st call blocks until release and then fails 401; every
// later call is a 429 with retry-after 2s.
type gateClient struct {
	n       atomic.Int32
	started chan struct{}
	release chan struct{}
}

func (g *gateClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	if g.n.Add(1) == 1 {
		close(g.started)
		<-g.release
		return nil, &provider.Error{Class: provider.ClassAuth, StatusCode: 401, Message: "key revoked"}
	}
	return nil, &provider.Error{Class: provider.ClassRateLimited, StatusCode: 429, RetryAfter: 2 * time.Second}
}

func (g *gateClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest}
}

// A 2 s throttle, then a 401 from a call that was already in flight: the
// key is now out for 10 minutes and its breaker is open. Both are
// announced: the 401's trip lengthens a running cooldown, which is no new
// one, but is news.
func TestCooldownEscalationIsLogged(t *testing.T) {
	rec := &recorder{}
	gc := &gateClient{started: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithLogger(slog.New(rec)),
		WithClientFactory(func(deployment.Config) (provider.Client, error) { return gc, nil }))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = h.r.Do(context.Background(), chatReq("g"), WithNumRetries(0)) }()
	<-gc.started
	_, _ = h.r.Do(context.Background(), chatReq("g"), WithNumRetries(0)) // 429: 2 s cooldown
	close(gc.release)                                                    // 401: 10 min cooldown + trip
	wg.Wait()
	if until := h.r.Deployment("a").CooldownUntil(); until.Sub(h.clock.Now()) < 9*time.Minute {
		t.Fatalf("setup: cooldown until %v", until)
	}
	if cool := rec.find(slog.LevelWarn, "router: deployment cooling down"); len(cool) != 2 {
		t.Errorf("%d cooldown warnings (%v), want 2: the 401's 10-minute cooldown is silent", len(cool), cool)
	}
}

// Hooks see the caller's metadata on every request, a malformed "cache"
// object's included.
func TestCacheControlErrorCarriesMetadata(t *testing.T) {
	log := &hookLog{}
	h := cacheHarness(t, log, respcache.Policy{})
	if _, err := h.r.Do(t.Context(), body("g", `,"cache":5`), WithMetadata(map[string]string{"tenant": "acme"})); err == nil {
		t.Fatal("want a RequestError for the cache object")
	}
	if got := log.last().Metadata["tenant"]; got != "acme" {
		t.Errorf("OnRequest Metadata = %v, want tenant=acme", log.last().Metadata)
	}
}

// A stream's rate-limit headers are read when it opens and dated then, so
// they do not replace the fresher headers of a call that finished while it
// ran (nor is that stale snapshot pushed to other replicas).
func TestStreamHeadersDoNotOverrideFresherSnapshot(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	atOpen := http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"90"}}
	fresh := http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"3"}}
	h.client("a").setScript(step{events: []string{"1", "2"}, header: atOpen}, step{header: fresh})
	s, err := h.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	for s.Next() {
	}
	_ = s.Close()
	if got := h.r.Deployment("a").Snapshot().RemainingRequests; got != 3 {
		t.Errorf("remaining requests = %d, want 3: the stream's 60 s old headers replaced the Do's", got)
	}
}

// A hostile model name cannot fill a log line: the *Error that Do returns
// cuts it as UnknownModelError does.
func TestUnknownModelNameIsBoundedInError(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	_, err := h.r.Do(t.Context(), chatReq(strings.Repeat("x", 10000)))
	if n := len(err.Error()); n > 1000 {
		t.Errorf("error message is %d bytes", n)
	}
}
