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
// Err; it is never truncated silently. With mid-stream recovery on (see
// StreamResume) a chat stream is resumed on another deployment instead,
// and the rest of the answer follows in the same StreamResult.
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
	// Resumes counts the times the stream broke midway and was resumed on
	// another deployment (see StreamResume). Each resume appends its
	// attempts to Attempts (the cut attempt's entry gets its error) and
	// sets Deployment to the one serving the rest of the stream.
	Resumes int

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
	inner    provider.Stream
	model    string
	endpoint provider.Endpoint
	metadata map[string]string
	reqStart time.Time
	// live is the attempt that opened the stream (zero for a stream
	// replayed from the response cache, whose group is cacheGroup).
	live       liveAttempt
	cacheGroup string
	// attempts, retries and fallbacks are the call's counts.
	attempts, retries, fallbacks int
	pending                      bool // the first event is read and not yet handed out
	done                         bool // the attempt has ended
	err                          error
	// firstEvent is when the stream's first event came (zero if unknown),
	// for RequestInfo.TTFT.
	firstEvent time.Time
	// rs is the resume state of a stream that may be resumed (see
	// StreamResume), nil for the others.
	rs *resumer
}

// Stream opens a streaming request to the model group (or alias) named by
// req.Model. Retries and fallbacks happen only before the first event: the
// router opens the stream and reads its first event itself before
// returning, so a failure before anything reached the caller is retried
// like any other. After that, a failure ends the stream with an error,
// unless mid-stream recovery resumes it (see StreamResume).
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
	sv := &c.served
	st := &streamState{
		r: r, ctx: ctx, inner: sv.stream, model: c.model, endpoint: c.req.Endpoint, metadata: c.opts.metadata,
		reqStart: c.start, live: sv.liveAttempt, attempts: len(c.attempts), retries: c.retries, fallbacks: c.fallbacks,
		pending: sv.firstRead,
	}
	if sv.ttft > 0 {
		st.firstEvent = sv.start.Add(sv.ttft)
	}
	if c.resumeWanted() {
		st.rs = newResumer(c)
	}
	s := &StreamResult{ModelGroup: sv.group.name, Deployment: sv.dep.ID(), Retries: c.retries, Fallbacks: c.fallbacks, st: st}
	s.Attempts = append(s.attemptBuf[:0], c.attempts...)
	s.header = annotate(sv.stream.Header(), sv.group.name, s.Deployment, c.retries, c.fallbacks)
	s.cleanup = runtime.AddCleanup(s, (*streamState).abandon, st)
	return s, nil
}

// Header returns the upstream's response header with the router's
// X-Switchyard-* headers added.
func (s *StreamResult) Header() http.Header { return s.header }

// Next advances to the next event, reporting whether there is one.
func (s *StreamResult) Next() bool {
	st := s.st
	if st.rs != nil {
		return s.nextResumable()
	}
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
	st.finish(st.inner.Err(), false)
	s.cleanup.Stop()
	return false
}

// nextResumable is Next for a stream that may be resumed: a break after
// the first event resumes it on another deployment when StreamResume
// allows, and the resume's events follow.
func (s *StreamResult) nextResumable() bool {
	st, rs := s.st, s.st.rs
	for {
		switch {
		case st.pending:
			st.pending = false
		case st.done:
			return false
		case !st.inner.Next():
			err := st.inner.Err()
			if err != nil && s.resume(err) {
				continue
			}
			st.finish(err, false)
			s.cleanup.Stop()
			return false
		}
		if rs.accept(st.inner.Event()) {
			return true
		}
	}
}

// Event returns the current event; its Data is valid until the next call to
// Next.
func (s *StreamResult) Event() provider.Event {
	if rs := s.st.rs; rs != nil && rs.splice {
		return rs.ev
	}
	return s.st.inner.Event()
}

// Usage returns the usage reported so far; for a resumed stream, the sum
// over its attempts (see StreamResume).
func (s *StreamResult) Usage() provider.Usage {
	rs := s.st.rs
	switch {
	case rs == nil:
		return s.st.inner.Usage()
	case rs.ended:
		return rs.prev
	}
	return addUsage(rs.prev, s.st.inner.Usage())
}

// Seam reports whether the current event is the first one spliced in from
// a resume (see StreamResume), and how many events the caller had read
// before it.
func (s *StreamResult) Seam() (afterChunks int, ok bool) {
	if rs := s.st.rs; rs != nil && rs.seam {
		return rs.after, true
	}
	return 0, false
}

// Err returns the error that ended the stream, nil after a clean end or
// Close. It is a *provider.Error naming the deployment.
func (s *StreamResult) Err() error { return s.st.err }

// Close ends the stream and releases the upstream connection. A stream
// closed before its end is reported to the hooks as closed early
// (AttemptInfo.ClosedEarly), with the usage seen so far.
func (s *StreamResult) Close() error {
	s.cleanup.Stop()
	st := s.st
	err := st.inner.Close()
	st.pending = false
	st.finish(nil, true)
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
	attrs := []slog.Attr{slog.String("model_group", st.group())}
	if d := st.live.dep; d != nil {
		attrs = append(attrs, slog.String("deployment", d.ID()))
	}
	st.r.log.LogAttrs(context.Background(), slog.LevelWarn, "router: stream dropped without Close", attrs...)
	st.finish(nil, true)
}

// group is the model group that serves the stream.
func (st *streamState) group() string {
	if st.live.group != nil {
		return st.live.group.name
	}
	return st.cacheGroup
}

// finish ends the stream exactly once, with its error (nil for a clean
// end or a Close; closed reports a Close before the end): it ends the live
// attempt, unless a resume that could not open ended it already, and
// reports the request.
func (st *streamState) finish(err error, closed bool) {
	if st.done {
		return
	}
	st.done = true
	if st.live.dep == nil { // replayed from the response cache
		st.finishCached(closed)
		return
	}
	var (
		u provider.Usage
		c float64
	)
	if rs := st.rs; rs != nil {
		u, c = rs.prev, rs.prevCost
	}
	if rs := st.rs; rs == nil || !rs.ended {
		a, ac := st.endAttempt(err, closed, false)
		u, c = addUsage(u, a.usage), c+ac
	}
	st.requestHook(u, c, closed)
}

// endAttempt ends the live attempt with err (nil for a clean end or a
// Close): the deployment's outcome, the shared reservation, the hooks.
// willResume reports a cut the router is about to resume; the attempt's
// usage is estimated when the upstream reported none. It returns the
// attempt and its cost.
func (st *streamState) endAttempt(err error, closed, willResume bool) (attemptResult, float64) {
	sv := &st.live
	a := attemptResult{start: sv.start, end: st.r.clock.Now(), ttft: sv.ttft, status: http.StatusOK, usage: st.inner.Usage()}
	if err != nil {
		a.err = normalizeErr(err, sv.dep, st.ctx, st.ctx)
		st.err = a.err
	}
	estimated := false
	if willResume && a.usage == (provider.Usage{}) {
		a.usage, estimated = st.rs.estimateUsage(st.rs.req, sv.dep), true
	}
	c := st.r.settle(st.ctx, sv, &a, deployment.Outcome{
		Latency: a.latency(), TTFT: sv.ttft, Stream: true, Usage: a.usage, Header: st.inner.Header(),
		HeaderAt: sv.start.Add(sv.ttft), CallerEnded: st.ctx.Err() != nil,
	})
	if h := st.r.hooks.OnAttempt; h != nil {
		info := sv.info(st.model, st.endpoint, st.metadata, &a, c, closed)
		info.Stream, info.TTFT = true, sv.ttft
		info.WillRetry, info.UsageEstimated = willResume, estimated
		if rs := st.rs; rs != nil && rs.splice {
			info.Resumed, info.ResumedAfterChunks = true, rs.after
		}
		h(st.ctx, info)
	}
	return a, c
}

// requestHook reports the stream's request, with the usage and cost of
// every attempt whose events reached the caller.
func (st *streamState) requestHook(u provider.Usage, c float64, closed bool) {
	h := st.r.hooks.OnRequest
	if h == nil {
		return
	}
	sv := &st.live
	end := st.r.clock.Now()
	ri := RequestInfo{
		Model: st.model, ModelGroup: sv.group.name, Deployment: sv.dep.ID(), Endpoint: st.endpoint, Stream: true,
		Metadata: st.metadata, Start: st.reqStart, Latency: end.Sub(st.reqStart), Attempts: st.attempts,
		Retries: st.retries, Fallbacks: st.fallbacks, Usage: u, Cost: c, ClosedEarly: closed,
	}
	if rs := st.rs; rs != nil {
		ri.Resumes = rs.resumed
	}
	if !st.firstEvent.IsZero() {
		ri.TTFT = st.firstEvent.Sub(st.reqStart)
	}
	if st.err != nil {
		ri.Err = st.err
	}
	h(st.ctx, ri)
}

var _ provider.Stream = (*StreamResult)(nil)
