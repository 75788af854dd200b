package router

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// StreamResult is an open stream from the deployment that served a Stream
// call, with how the router got it. It is a provider.Stream: read it with
// Next, Event and Err, and Close it when done (Close may be called at any
// time, more than once). Like any provider.Stream it is not safe for
// concurrent use.
//
// The router has already read the first event (to measure time to first
// token, and so that a failure before it could still be retried); Next
// returns it first. A stream that breaks after that ends with an error from
// Err; it is never truncated silently.
//
// A StreamResult dropped without Close or reaching its end is closed when
// the garbage collector finds it, so that its connection and the
// deployment's in-flight count are not leaked; do not rely on it.
type StreamResult struct {
	// ModelGroup and Deployment serve the stream.
	ModelGroup, Deployment string
	// Attempts lists every upstream call made to open the stream, in order;
	// the last one opened it.
	Attempts []Attempt
	// Retries counts attempts after the first within a model group;
	// Fallbacks counts the fallback groups tried.
	Retries, Fallbacks int
	// CacheHit reports a chat answer replayed from the response cache (see
	// WithResponseCache): no deployment was called, so Deployment is empty
	// and Attempts is nil.
	CacheHit bool

	st      *streamState
	header  http.Header
	cleanup runtime.Cleanup

	attemptBuf [1]Attempt
}

// streamState is the live part of a StreamResult, apart so that the
// cleanup of an abandoned StreamResult can reach it.
type streamState struct {
	r        *Router
	ctx      context.Context // the caller's
	cancel   context.CancelCauseFunc
	inner    provider.Stream
	dep      *deployment.Deployment
	att      deployment.Attempt
	sh       sharedAttempt // with WithSharedState
	model    string
	group    string
	endpoint provider.Endpoint
	reqStart time.Time
	attStart time.Time
	ttft     time.Duration
	retry    int
	fb       int
	attempts int
	retries  int
	fbs      int
	pending  bool // the first event is read and not yet handed out
	done     bool // the attempt has ended
	err      error
}

// Stream opens a streaming request to the model group (or alias) named by
// req.Model. Retries and fallbacks happen only before the first event: the
// router opens the stream and reads its first event itself before
// returning, so a failure before anything reached the caller is retried
// like any other. After that, a failure ends the stream with an error.
//
// The caller's context bounds the whole stream; canceling it ends the
// upstream stream too. On failure the error is an *Error that lists every
// attempt. With WithResponseCache a chat answer in the cache is replayed
// as a stream (StreamResult.CacheHit).
func (r *Router) Stream(ctx context.Context, req *provider.Request, opts ...CallOption) (*StreamResult, error) {
	if r.rc != nil {
		return r.streamCached(ctx, req, opts)
	}
	return r.stream(ctx, req, opts)
}

// stream is Stream without the response cache.
func (r *Router) stream(ctx context.Context, req *provider.Request, opts []CallOption) (*StreamResult, error) {
	c := r.newCall(ctx, req, true, opts)
	defer r.freeCall(c)
	if err := c.route(); err != nil {
		return nil, err
	}
	st := &streamState{
		r: r, ctx: ctx, cancel: c.cancel, inner: c.s, dep: c.dep, att: c.att,
		model: c.model, group: c.group.name, endpoint: c.req.Endpoint, reqStart: c.start, attStart: c.attStart,
		ttft: c.ttft, retry: c.retry, fb: c.fb, attempts: len(c.attempts), retries: c.retries, fbs: c.fallbacks,
		pending: c.first, sh: c.sh,
	}
	s := &StreamResult{ModelGroup: c.group.name, Deployment: c.dep.ID(), Retries: c.retries, Fallbacks: c.fallbacks, st: st}
	s.Attempts = c.copyAttempts(s.attemptBuf[:0])
	s.header = annotate(c.s.Header(), c.group.name, s.Deployment, c.retries, c.fallbacks)
	s.cleanup = runtime.AddCleanup(s, (*streamState).abandon, st)
	return s, nil
}

// Header returns the upstream's response header with the router's
// X-Switchyard-* headers added.
func (s *StreamResult) Header() http.Header { return s.header }

// Next advances to the next event, reporting whether there is one.
func (s *StreamResult) Next() bool {
	st := s.st
	if st.pending {
		st.pending = false
		return true
	}
	if st.done {
		return false
	}
	if st.inner.Next() {
		return true
	}
	st.finish(st.inner.Err())
	s.cleanup.Stop()
	return false
}

// Event returns the current event; its Data is valid until the next call to
// Next.
func (s *StreamResult) Event() provider.Event { return s.st.inner.Event() }

// Usage returns the usage reported so far.
func (s *StreamResult) Usage() provider.Usage { return s.st.inner.Usage() }

// Err returns the error that ended the stream, nil after a clean end or
// Close. It is a *provider.Error naming the deployment.
func (s *StreamResult) Err() error { return s.st.err }

// Close ends the stream and releases the upstream connection.
func (s *StreamResult) Close() error {
	s.cleanup.Stop()
	st := s.st
	err := st.inner.Close()
	st.pending = false
	st.finish(nil)
	return err
}

// abandon ends a stream its caller dropped without closing it. It runs on
// the garbage collector's cleanup goroutine, when nothing else can reach
// the stream.
func (st *streamState) abandon() {
	if st.done {
		return
	}
	_ = st.inner.Close()
	st.r.log.LogAttrs(context.Background(), slog.LevelWarn, "router: stream dropped without Close",
		slog.String("model_group", st.group), slog.String("deployment", st.dep.ID()))
	st.finish(nil)
}

// finish ends the attempt exactly once, with the stream's error (nil for a
// clean end or an early Close), and runs the hooks.
func (st *streamState) finish(err error) {
	if st.done {
		return
	}
	st.done = true
	if st.dep == nil { // replayed from the response cache
		st.finishCached()
		return
	}
	end := st.r.now()
	var pe *provider.Error
	if err != nil {
		pe = normalizeErr(err, st.dep, st.ctx, st.ctx)
		st.err = pe
	}
	usage := st.inner.Usage()
	o := deployment.Outcome{
		Latency: end.Sub(st.attStart), TTFT: st.ttft, Stream: true, Usage: usage, Header: st.inner.Header(),
	}
	if pe != nil {
		o.Err = pe
	}
	st.att.End(end, o)
	if sh := st.r.shared; sh != nil {
		sh.end(&st.sh, st.dep, usage, st.sh.cooling, end, pe)
	}
	if st.cancel != nil {
		st.cancel(nil)
	}
	info := st.dep.Config().Info
	c := cost(usage, info.InputCostPerToken, info.OutputCostPerToken)
	if h := st.r.hooks.OnAttempt; h != nil {
		a := AttemptInfo{
			Model: st.model, ModelGroup: st.group, Deployment: st.dep.ID(), UpstreamModel: st.dep.Config().Model,
			Endpoint: st.endpoint, Stream: true, Start: st.attStart, Latency: o.Latency, TTFT: st.ttft,
			Usage: usage, Cost: c, Retry: st.retry, Fallback: st.fb,
		}
		if pe != nil {
			a.Err, a.Class, a.StatusCode = pe, pe.Class, pe.StatusCode
		}
		h(a)
	}
	if h := st.r.hooks.OnRequest; h != nil {
		ri := RequestInfo{
			Model: st.model, ModelGroup: st.group, Deployment: st.dep.ID(), Endpoint: st.endpoint, Stream: true,
			Start: st.reqStart, Latency: end.Sub(st.reqStart), Attempts: st.attempts,
			Retries: st.retries, Fallbacks: st.fbs, Usage: usage, Cost: c,
		}
		if st.ttft > 0 {
			ri.TTFT = st.attStart.Add(st.ttft).Sub(st.reqStart)
		}
		if pe != nil {
			ri.Err = pe
		}
		h(ri)
	}
}

var _ provider.Stream = (*StreamResult)(nil)
