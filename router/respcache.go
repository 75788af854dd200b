package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/provider"
)

// HeaderCacheHit is set to "true" in the header of an answer served from
// the response cache.
const HeaderCacheHit = "X-Switchyard-Cache-Hit"

// WithResponseCache answers repeated requests from c instead of calling a
// deployment: exact-match caching of complete (non-streaming) answers of
// the endpoints p names (chat, completions and embeddings by default),
// keyed by the model group and the normalised request (see
// respcache.Prepare: field order, whitespace, number forms, "stream",
// "user" and "metadata" do not matter). A streaming chat request is
// answered from the cache too, as a replayed stream of chunks
// (respcache.Replay); streamed answers are not stored. The router gives
// the cache its clock: entries are stored at, and looked up at, the
// router's now.
//
// Each call may say what it wants, in its body's "cache" object
// (LiteLLM's: "no-cache", "no-store", "ttl", "s-maxage", "namespace",
// "use-cache"; the object is removed from the body sent upstream) or with
// [WithCacheControl]; with p.OptIn only the calls that ask use the cache.
// An answer from the cache has
// Result.CacheHit (StreamResult.CacheHit) set, the header
// X-Switchyard-Cache-Hit: true, no deployment and no attempts, and is
// reported to Hooks.OnRequest with RequestInfo.CacheHit.
//
// A cache that fails (Redis down) costs a miss, never a failed call; the
// incident is logged and reported to Hooks.OnSharedState once. Without this
// option (the default) nothing is cached and no call does any of this
// work. c must be safe for concurrent use; a nil c turns caching off.
func WithResponseCache(c respcache.Cache, p respcache.Policy) Option {
	return func(r *Router) {
		if c == nil {
			r.rc = nil
			return
		}
		rc := &respCache{c: c, ttl: max(p.TTL, 0), optIn: p.OptIn, chunkRunes: max(p.ReplayChunkRunes, 0),
			endpoints: slices.Clone(p.Endpoints)}
		if len(rc.endpoints) == 0 {
			rc.endpoints = []provider.Endpoint{provider.EndpointChat, provider.EndpointCompletions, provider.EndpointEmbeddings}
		}
		r.rc = rc
	}
}

// WithCacheControl sets this call's cache directives. They win over those
// of the body's "cache" object: NoCache and NoStore add to them, and a
// non-zero TTL, MaxAge or Namespace replaces theirs. Giving directives
// opts the call in (see respcache.Policy.OptIn), so
//
//	WithCacheControl(respcache.Control{})                             // use the cache (when the router caches opt-in calls only)
//	WithCacheControl(respcache.Control{NoCache: true, NoStore: true}) // keep this call away from it
func WithCacheControl(ctl respcache.Control) CallOption {
	return func(o *callOptions) { o.cache.ctl = &ctl }
}

// respCache is the router's response cache and its settings.
type respCache struct {
	// immutable after New
	c          respcache.Cache
	ttl        time.Duration
	endpoints  []provider.Endpoint
	optIn      bool
	chunkRunes int

	down atomic.Bool // an incident is in progress
}

// cacheCall is what a call's options say about the response cache.
type cacheCall struct {
	ctl *respcache.Control
}

// cacheLookup is one call's use of the response cache.
type cacheLookup struct {
	req         *provider.Request // to send upstream: without the "cache" object
	key, group  string
	ctl         respcache.Control
	read, write bool
	metadata    map[string]string // the call's WithMetadata, for the hooks
}

// cachePrepare decides how a call uses the cache. It returns ok false when
// the call is not one the cache can take (another endpoint, an unknown
// model, a body that is not a JSON object): it then goes upstream as it
// is. A malformed "cache" object is the caller's error.
func (r *Router) cachePrepare(req *provider.Request, opts []CallOption) (lk cacheLookup, ok bool, err error) {
	rc := r.rc
	if !slices.Contains(rc.endpoints, req.Endpoint) {
		return lk, false, nil
	}
	g := r.state.Load().lookup(r.aliases, req.Model)
	if g == nil {
		return lk, false, nil
	}
	var o callOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	lk.metadata = o.metadata // for the hooks, even of a malformed "cache" object
	p, err := respcache.Prepare(g.name, req.Endpoint.String(), req.Body)
	if err != nil {
		var ce *respcache.ControlError
		if errors.As(err, &ce) {
			return lk, false, err
		}
		return lk, false, nil
	}
	lk.req, lk.key, lk.group, lk.ctl = req, p.Key, g.name, p.Control
	if len(p.Body) != len(req.Body) || &p.Body[0] != &req.Body[0] {
		cp := *req
		cp.Body = p.Body
		lk.req = &cp
	}
	if c := o.cache.ctl; c != nil {
		lk.ctl.NoCache = lk.ctl.NoCache || c.NoCache
		lk.ctl.NoStore = lk.ctl.NoStore || c.NoStore
		if c.TTL > 0 {
			lk.ctl.TTL = c.TTL
		}
		if c.MaxAge > 0 {
			lk.ctl.MaxAge = c.MaxAge
		}
		if c.Namespace != "" {
			lk.ctl.Namespace = c.Namespace
			lk.key = c.Namespace + ":" + lk.key
		}
	}
	on := !rc.optIn || lk.ctl.UseCache || o.cache.ctl != nil
	lk.read, lk.write = on && !lk.ctl.NoCache, on && !lk.ctl.NoStore
	return lk, true, nil
}

// cacheUsable reports whether a call may look at the cache at all: calls
// the router will refuse anyway (closed, nil arguments, context done) go
// the ordinary way, which gives them their error.
func (r *Router) cacheUsable(ctx context.Context, req *provider.Request) bool {
	return r.rc != nil && req != nil && ctx != nil && !r.closed.Load() && ctx.Err() == nil
}

// doCached is Do with the response cache.
func (r *Router) doCached(ctx context.Context, req *provider.Request, opts []CallOption) (*Result, error) {
	if !r.cacheUsable(ctx, req) {
		return r.do(ctx, req, opts)
	}
	lk, ok, err := r.cachePrepare(req, opts)
	if err != nil {
		return nil, r.cacheControlError(ctx, req, false, lk.metadata, err)
	}
	if !ok {
		return r.do(ctx, req, opts)
	}
	if lk.read {
		start := r.clock.Now()
		if e := r.cacheGet(ctx, &lk); e != nil {
			return r.cacheHit(ctx, req, &lk, e, start), nil
		}
	}
	if lk.write {
		lk.req = wholeBody(lk.req) // the answer is stored: no pass-through
	}
	res, err := r.do(ctx, lk.req, opts)
	if err == nil && lk.write && res.StatusCode/100 == 2 {
		ttl := lk.ctl.TTL
		if ttl <= 0 {
			ttl = r.rc.ttl
		}
		r.cacheHealth(ctx, r.rc.c.Set(ctx, lk.key, respcache.NewEntry(res.Response, r.clock.Now()), ttl))
	}
	return res, err
}

// streamCached is Stream with the response cache: a chat answer in the
// cache is replayed as a stream.
func (r *Router) streamCached(ctx context.Context, req *provider.Request, opts []CallOption) (*StreamResult, error) {
	if !r.cacheUsable(ctx, req) {
		return r.stream(ctx, req, opts)
	}
	lk, ok, err := r.cachePrepare(req, opts)
	if err != nil {
		return nil, r.cacheControlError(ctx, req, true, lk.metadata, err)
	}
	if !ok {
		return r.stream(ctx, req, opts)
	}
	if lk.read && req.Endpoint == provider.EndpointChat {
		start := r.clock.Now()
		if e := r.cacheGet(ctx, &lk); e != nil {
			s, err := respcache.Replay(e, respcache.ReplayOptions{IncludeUsage: includeUsage(lk.req.Body), ChunkRunes: r.rc.chunkRunes})
			if err == nil {
				return r.replay(ctx, req, &lk, s, start), nil
			}
		}
	}
	return r.stream(ctx, lk.req, opts)
}

// cacheGet returns a fresh entry for the call, nil on a miss.
func (r *Router) cacheGet(ctx context.Context, lk *cacheLookup) *respcache.Entry {
	now := r.clock.Now()
	e, hit, err := r.rc.c.Get(ctx, lk.key, now)
	r.cacheHealth(ctx, err)
	if err != nil || !hit || e == nil || !lk.ctl.Fresh(e.StoredAt, now) {
		return nil
	}
	return e
}

// cacheHealth tracks the cache's incidents: the first failure is logged
// and reported, and so is the first success after it. A failure caused by
// the caller's context is not the cache's.
func (r *Router) cacheHealth(ctx context.Context, err error) {
	rc := r.rc
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		if rc.down.CompareAndSwap(false, true) {
			r.log.LogAttrs(ctx, slog.LevelWarn, "router: response cache unavailable; calls go upstream", slog.String("error", err.Error()))
			r.sharedEvent(ComponentResponseCache, err)
		}
	case rc.down.Load():
		if rc.down.CompareAndSwap(true, false) {
			r.log.LogAttrs(ctx, slog.LevelInfo, "router: response cache available again")
			r.sharedEvent(ComponentResponseCache, nil)
		}
	}
}

// cacheHeader returns the header of an answer from the cache: the entry's,
// with the router's.
func cacheHeader(e *respcache.Entry, group string, stream bool) http.Header {
	h := make(http.Header, len(e.Header)+3)
	for k, v := range e.Header {
		h[k] = slices.Clone(v)
	}
	if stream {
		h.Set("Content-Type", "text/event-stream")
	}
	h[HeaderModelGroup] = []string{group}
	h[HeaderCacheHit] = []string{"true"}
	return h
}

// cacheHit makes the Result of an answer from the cache and reports it.
func (r *Router) cacheHit(ctx context.Context, req *provider.Request, lk *cacheLookup, e *respcache.Entry, start time.Time) *Result {
	resp := &provider.Response{StatusCode: http.StatusOK, Header: e.Header.Clone(), Body: bytes.Clone(e.Body), Usage: e.Usage()}
	res := &Result{Response: resp, Header: cacheHeader(e, lk.group, false), ModelGroup: lk.group, CacheHit: true}
	if h := r.hooks.OnRequest; h != nil {
		h(ctx, RequestInfo{
			Model: req.Model, ModelGroup: lk.group, Endpoint: req.Endpoint, Metadata: lk.metadata,
			Start: start, Latency: r.clock.Now().Sub(start), Usage: resp.Usage, CacheHit: true,
		})
	}
	return res
}

// replay makes the StreamResult of a chat answer replayed from the cache.
// It has no deployment and no attempt; finish reports it to OnRequest.
func (r *Router) replay(ctx context.Context, req *provider.Request, lk *cacheLookup, s provider.Stream, start time.Time) *StreamResult {
	st := &streamState{r: r, ctx: ctx, inner: s, model: req.Model, cacheGroup: lk.group, endpoint: req.Endpoint, metadata: lk.metadata, reqStart: start}
	return &StreamResult{ModelGroup: lk.group, CacheHit: true, st: st, header: cacheHeader(&respcache.Entry{Header: s.Header()}, lk.group, true)}
}

// finishCached ends a stream replayed from the cache.
func (st *streamState) finishCached(closedEarly bool) {
	if h := st.r.hooks.OnRequest; h != nil {
		end := st.r.clock.Now()
		h(st.ctx, RequestInfo{
			Model: st.model, ModelGroup: st.cacheGroup, Endpoint: st.endpoint, Stream: true, Metadata: st.metadata,
			Start: st.reqStart, Latency: end.Sub(st.reqStart), Usage: st.inner.Usage(), CacheHit: true,
			ClosedEarly: closedEarly,
		})
	}
}

// cacheControlError is the error of a call whose "cache" object is
// malformed: the caller's mistake (a *RequestError for "cache"), never sent
// upstream.
func (r *Router) cacheControlError(ctx context.Context, req *provider.Request, stream bool, md map[string]string, err error) error {
	e := &Error{Model: req.Model, Err: requestErr("cache", "malformed cache object", err)}
	if h := r.hooks.OnRequest; h != nil {
		now := r.clock.Now()
		h(ctx, RequestInfo{Model: req.Model, Endpoint: req.Endpoint, Stream: stream, Metadata: md, Start: now, Err: e})
	}
	return e
}

// includeUsage reports whether a streaming request asks for the final
// usage chunk (stream_options.include_usage).
func includeUsage(body []byte) bool {
	if !bytes.Contains(body, []byte("include_usage")) {
		return false
	}
	var v struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	return json.Unmarshal(body, &v) == nil && v.StreamOptions.IncludeUsage
}
