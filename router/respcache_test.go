package router

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/openai/openai-go/v3"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/provider"
)

const completionBody = `{"id":"c1","object":"chat.completion","created":1,"model":"g","choices":[` +
	`{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`

// hookLog records the hooks' reports.
type hookLog struct {
	mu     sync.Mutex
	reqs   []RequestInfo
	shared []SharedStateEvent
}

func (l *hookLog) hooks() Hooks {
	return Hooks{
		OnRequest: func(_ context.Context, ri RequestInfo) {
			l.mu.Lock()
			l.reqs = append(l.reqs, ri)
			l.mu.Unlock()
		},
		OnSharedState: func(e SharedStateEvent) {
			l.mu.Lock()
			l.shared = append(l.shared, e)
			l.mu.Unlock()
		},
	}
}

func (l *hookLog) last() RequestInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reqs[len(l.reqs)-1]
}

func (l *hookLog) events() []SharedStateEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]SharedStateEvent(nil), l.shared...)
}

// cacheHarness is a router over one fake deployment "a" in group "g"
// (alias "alias") with a memory response cache; the router gives it the
// harness clock.
func cacheHarness(t *testing.T, log *hookLog, p respcache.Policy) *harness {
	t.Helper()
	rc := respcache.NewMemory(respcache.Config{TTL: time.Minute})
	h := newHarness(t, Config{Deployments: grp("g", "a"), Aliases: map[string]string{"alias": "g"}},
		WithResponseCache(rc, p), WithHooks(log.hooks()))
	h.client("a").setScript(step{body: completionBody, usage: provider.Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}})
	return h
}

func body(model, extra string) *provider.Request {
	b := `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]` + extra + `}`
	return &provider.Request{Endpoint: provider.EndpointChat, Model: model, Body: []byte(b)}
}

func TestResponseCacheHit(t *testing.T) {
	log := &hookLog{}
	h := cacheHarness(t, log, respcache.Policy{})
	ctx := t.Context()
	first, err := h.r.Do(ctx, body("g", ""))
	if err != nil {
		t.Fatal(err)
	}
	if first.CacheHit || first.Header.Get(HeaderCacheHit) != "" || log.last().CacheHit {
		t.Fatalf("first call marked as a hit: %+v", first)
	}
	// The same question, written differently and through the alias: a hit.
	same := &provider.Request{Endpoint: provider.EndpointChat, Model: "alias",
		Body: []byte(`{ "messages": [ {"content":"hi", "role":"user"} ], "user":"u-1", "model":"alias" }`)}
	res, err := h.r.Do(ctx, same)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.client("a").Calls(); n != 1 {
		t.Fatalf("%d upstream calls, want 1: the second came from the cache", n)
	}
	if !res.CacheHit || res.Header.Get(HeaderCacheHit) != "true" || res.Header.Get(HeaderModelGroup) != "g" {
		t.Errorf("hit not marked: CacheHit %v, header %v", res.CacheHit, res.Header)
	}
	if string(res.Body) != string(first.Body) || res.Deployment != "" || res.Attempts != nil || res.ModelGroup != "g" {
		t.Errorf("hit result %+v, body %s", res, res.Body)
	}
	if res.Usage.TotalTokens != 7 || res.StatusCode != 200 {
		t.Errorf("hit usage %+v, status %d", res.Usage, res.StatusCode)
	}
	ri := log.last()
	if !ri.CacheHit || ri.Attempts != 0 || ri.Deployment != "" || ri.ModelGroup != "g" || ri.Model != "alias" || ri.Usage.TotalTokens != 7 || ri.Cost != 0 {
		t.Errorf("OnRequest for the hit: %+v", ri)
	}
	// The same question encoded by the OpenAI SDK (as router/typed sends
	// it) hits too, and the answer decodes as the SDK's type.
	tres, err := h.r.Do(ctx, sdkChat(t, openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, false))
	if err != nil {
		t.Fatal(err)
	}
	var cr openai.ChatCompletion
	if err := cr.UnmarshalJSON(tres.Body); err != nil {
		t.Fatal(err)
	}
	if !tres.CacheHit || cr.Choices[0].Message.Content != "Hello there" {
		t.Errorf("typed hit: %v %+v", tres.CacheHit, cr)
	}
}

// sdkChat is the request router/typed makes of params: their MarshalJSON,
// with "stream": true when streaming.
func sdkChat(t *testing.T, params openai.ChatCompletionNewParams, stream bool) *provider.Request {
	t.Helper()
	if stream {
		params.SetExtraFields(map[string]any{"stream": true})
	}
	b, err := params.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return &provider.Request{Endpoint: provider.EndpointChat, Model: params.Model, Body: b, Stream: stream}
}

func TestResponseCacheControl(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy respcache.Policy
		// first and second are the bodies' extra fields and call options;
		// advance is the time between them.
		first, second         string
		firstOpts, secondOpts []CallOption
		advance               time.Duration
		wantHit               bool
	}{
		{name: "default: hit", wantHit: true},
		{name: "no-cache reads nothing", second: `,"cache":{"no-cache":true}`},
		{name: "no-cache still stores", first: `,"cache":{"no-cache":true}`, wantHit: true},
		{name: "no-store stores nothing", first: `,"cache":{"no-store":true}`},
		{name: "WithoutCache on the first call", firstOpts: []CallOption{WithCacheControl(respcache.Control{NoCache: true, NoStore: true})}},
		{name: "WithoutCache on the second call", secondOpts: []CallOption{WithCacheControl(respcache.Control{NoCache: true, NoStore: true})}},
		{name: "WithCacheControl NoCache", secondOpts: []CallOption{WithCacheControl(respcache.Control{NoCache: true})}},
		{name: "ttl from the body", first: `,"cache":{"ttl":10}`, advance: 11 * time.Second},
		{name: "ttl from the option", firstOpts: []CallOption{WithCacheControl(respcache.Control{TTL: 10 * time.Second})}, advance: 11 * time.Second},
		{name: "router ttl", policy: respcache.Policy{TTL: 10 * time.Second}, advance: 11 * time.Second},
		{name: "within the ttl", first: `,"cache":{"ttl":10}`, advance: 9 * time.Second, wantHit: true},
		{name: "cache ttl (one minute)", advance: time.Minute},
		{name: "s-maxage too old", second: `,"cache":{"s-maxage":5}`, advance: 6 * time.Second},
		{name: "s-maxage fresh enough", second: `,"cache":{"s-maxage":5}`, advance: 4 * time.Second, wantHit: true},
		{name: "namespaces apart", first: `,"cache":{"namespace":"a"}`, second: `,"cache":{"namespace":"b"}`},
		{name: "same namespace", first: `,"cache":{"namespace":"a"}`, second: `,"cache":{"namespace":"a"}`, wantHit: true},
		{name: "option namespace", firstOpts: []CallOption{WithCacheControl(respcache.Control{Namespace: "a"})}},
		{name: "different question", second: `,"temperature":0.5`},
		{name: "opt-in: plain calls not cached", policy: respcache.Policy{OptIn: true}},
		{name: "opt-in: WithCache", policy: respcache.Policy{OptIn: true},
			firstOpts: []CallOption{WithCacheControl(respcache.Control{})}, secondOpts: []CallOption{WithCacheControl(respcache.Control{})}, wantHit: true},
		{name: "opt-in: use-cache in the body", policy: respcache.Policy{OptIn: true},
			first: `,"cache":{"use-cache":true}`, second: `,"cache":{"use-cache":true}`, wantHit: true},
		{name: "opt-in: only the second asks", policy: respcache.Policy{OptIn: true}, secondOpts: []CallOption{WithCacheControl(respcache.Control{})}},
		{name: "endpoint not cached", policy: respcache.Policy{Endpoints: []provider.Endpoint{provider.EndpointEmbeddings}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := &hookLog{}
			h := cacheHarness(t, log, tt.policy)
			if _, err := h.r.Do(t.Context(), body("g", tt.first), tt.firstOpts...); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(tt.advance)
			res, err := h.r.Do(t.Context(), body("g", tt.second), tt.secondOpts...)
			if err != nil {
				t.Fatal(err)
			}
			wantCalls := 2
			if tt.wantHit {
				wantCalls = 1
			}
			if res.CacheHit != tt.wantHit || h.client("a").Calls() != wantCalls || log.last().CacheHit != tt.wantHit {
				t.Errorf("CacheHit %v after %d upstream calls, want %v after %d", res.CacheHit, h.client("a").Calls(), tt.wantHit, wantCalls)
			}
			// The "cache" object never reaches the upstream.
			for _, req := range h.client("a").reqs {
				if strings.Contains(string(req.Body), `"cache"`) {
					t.Errorf("upstream got the cache object: %s", req.Body)
				}
			}
		})
	}
}

func TestResponseCacheBadControl(t *testing.T) {
	log := &hookLog{}
	h := cacheHarness(t, log, respcache.Policy{})
	_, err := h.r.Do(t.Context(), body("g", `,"cache":{"ttl":"soon"}`))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.ClassBadRequest || pe.StatusCode != 400 {
		t.Fatalf("err %v, want a bad request", err)
	}
	var ce *respcache.ControlError
	if !errors.As(err, &ce) || ce.Field != "ttl" {
		t.Errorf("err %v does not name the field", err)
	}
	if h.client("a").Calls() != 0 || log.last().Err == nil {
		t.Errorf("%d upstream calls, hook %+v", h.client("a").Calls(), log.last())
	}
	if _, err := h.r.Stream(t.Context(), body("g", `,"cache":[]`)); !errors.As(err, &pe) {
		t.Errorf("stream: err %v, want a bad request", err)
	}
}

func TestResponseCacheOtherBodies(t *testing.T) {
	log := &hookLog{}
	h := cacheHarness(t, log, respcache.Policy{})
	for range 2 {
		// Not a JSON object: the caller's mistake, never sent nor cached.
		_, err := h.r.Do(t.Context(), &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: []byte(`[1]`)})
		var re *RequestError
		if !errors.As(err, &re) || re.Field != "body" {
			t.Fatalf("a body that is not a JSON object: err %v, want a *RequestError for the body", err)
		}
		// An endpoint not cached by default.
		if _, err := h.r.Do(t.Context(), &provider.Request{Endpoint: provider.EndpointResponses, Model: "g", Body: []byte(`{"model":"g","input":"hi"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.client("a").Calls(); n != 2 {
		t.Errorf("%d upstream calls, want 2", n)
	}
	// Unknown models and closed routers give their usual errors.
	if _, err := h.r.Do(t.Context(), body("nope", "")); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
	_ = h.r.Close()
	if _, err := h.r.Do(t.Context(), body("g", "")); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}

func TestResponseCacheStreamReplay(t *testing.T) {
	log := &hookLog{}
	h := cacheHarness(t, log, respcache.Policy{ReplayChunkRunes: 5})
	ctx := t.Context()
	// A miss streams from the deployment, and stores nothing.
	h.client("a").setScript(step{events: []string{`{"choices":[{"delta":{"content":"live"}}]}`}})
	s, err := h.r.Stream(ctx, body("g", `,"stream":true`))
	if err != nil {
		t.Fatal(err)
	}
	for s.Next() {
	}
	_ = s.Close()
	if s.CacheHit || s.Deployment != "a" {
		t.Fatalf("miss: CacheHit %v, deployment %q", s.CacheHit, s.Deployment)
	}
	// A non-streaming answer fills the cache; the stream replays it.
	h.client("a").setScript(step{body: completionBody})
	if _, err := h.r.Do(ctx, body("g", "")); err != nil {
		t.Fatal(err)
	}
	calls := h.client("a").Calls()
	cs, err := h.r.Stream(ctx, sdkChat(t, openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}, true))
	if err != nil {
		t.Fatal(err)
	}
	var (
		text   strings.Builder
		chunks int
		usage  int
	)
	for cs.Next() {
		var c openai.ChatCompletionChunk
		if err := c.UnmarshalJSON(cs.Event().Data); err != nil {
			t.Fatal(err)
		}
		chunks++
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
		if c.JSON.Usage.Valid() {
			usage = int(c.Usage.TotalTokens)
		}
	}
	if err := cs.Err(); err != nil {
		t.Fatal(err)
	}
	_ = cs.Close()
	if !cs.CacheHit || cs.Header().Get(HeaderCacheHit) != "true" || cs.Header().Get("Content-Type") != "text/event-stream" {
		t.Errorf("replay not marked: %v %v", cs.CacheHit, cs.Header())
	}
	if text.String() != "Hello there" || chunks != 6 || usage != 7 {
		t.Errorf("replayed %q in %d chunks, usage %d; want \"Hello there\" in 6 (role, 3 pieces, finish, usage), usage 7", text.String(), chunks, usage)
	}
	if h.client("a").Calls() != calls {
		t.Errorf("the replay called the upstream")
	}
	ri := log.last()
	if !ri.CacheHit || !ri.Stream || ri.Attempts != 0 || ri.Usage.TotalTokens != 7 {
		t.Errorf("OnRequest for the replay: %+v", ri)
	}
	// Opting out streams from the deployment.
	h.client("a").setScript(step{events: []string{`{}`}})
	s, err = h.r.Stream(ctx, body("g", `,"stream":true`), WithCacheControl(respcache.Control{NoCache: true, NoStore: true}))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if s.CacheHit || h.client("a").Calls() != calls+1 {
		t.Errorf("WithoutCache stream served from the cache")
	}
}

// flakyCache is a Cache that fails while down.
type flakyCache struct {
	respcache.Cache
	down atomic.Bool
}

var errCacheDown = errors.New("cache down")

func (f *flakyCache) Get(ctx context.Context, key string, now time.Time) (*respcache.Entry, bool, error) {
	if f.down.Load() {
		return nil, false, errCacheDown
	}
	return f.Cache.Get(ctx, key, now)
}

func (f *flakyCache) Set(ctx context.Context, key string, e *respcache.Entry, ttl time.Duration) error {
	if f.down.Load() {
		return errCacheDown
	}
	return f.Cache.Set(ctx, key, e, ttl)
}

func TestResponseCacheDown(t *testing.T) {
	log := &hookLog{}
	fc := &flakyCache{Cache: respcache.NewMemory(respcache.Config{})}
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithResponseCache(fc, respcache.Policy{}), WithHooks(log.hooks()))
	fc.down.Store(true)
	for range 3 {
		if res, err := h.r.Do(t.Context(), body("g", "")); err != nil || res.CacheHit {
			t.Fatalf("with the cache down: %v, %+v", err, res)
		}
	}
	fc.down.Store(false)
	for range 2 {
		if _, err := h.r.Do(t.Context(), body("g", "")); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.client("a").Calls(); n != 4 {
		t.Errorf("%d upstream calls, want 4 (3 while down, 1 miss after)", n)
	}
	ev := log.events()
	if len(ev) != 2 || ev[0].Component != ComponentResponseCache || !errors.Is(ev[0].Err, errCacheDown) || ev[1].Err != nil {
		t.Errorf("events %v, want one incident and its end", ev)
	}
}

// TestResponseCacheRedisShared: two routers (replicas) with their own
// Redis clients share one Redis response cache: what one stored, the other
// serves.
func TestResponseCacheRedisShared(t *testing.T) {
	mr := miniredis.RunT(t)
	var routers []*harness
	for range 2 {
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		rc := respcache.NewRedis(c, respcache.Config{Timeout: 5 * time.Second})
		h := newHarness(t, Config{Deployments: grp("g", "a")}, WithResponseCache(rc, respcache.Policy{}))
		h.client("a").setScript(step{body: completionBody})
		routers = append(routers, h)
	}
	if _, err := routers[0].r.Do(t.Context(), body("g", "")); err != nil {
		t.Fatal(err)
	}
	res, err := routers[1].r.Do(t.Context(), body("g", ""))
	if err != nil {
		t.Fatal(err)
	}
	if !res.CacheHit || routers[1].client("a").Calls() != 0 {
		t.Errorf("replica 1: CacheHit %v after %d calls", res.CacheHit, routers[1].client("a").Calls())
	}
	var got map[string]any
	if err := json.Unmarshal(res.Body, &got); err != nil || got["id"] != "c1" {
		t.Errorf("body %s", res.Body)
	}
}
