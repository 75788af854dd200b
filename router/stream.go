package router

import (
	"context"
	"net/http"
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
type StreamResult struct {
	// ModelGroup and Deployment serve the stream.
	ModelGroup, Deployment string
	// Attempts lists every upstream call made to open the stream, in order;
	// the last one opened it.
	Attempts []Attempt
	// Retries counts attempts after the first within a model group;
	// Fallbacks counts the fallback groups tried.
	Retries, Fallbacks int

	r        *Router
	ctx      context.Context // the caller's
	cancel   context.CancelCauseFunc
	inner    provider.Stream
	header   http.Header
	dep      *deployment.Deployment
	att      deployment.Attempt
	model    string
	endpoint provider.Endpoint
	reqStart time.Time
	attStart time.Time
	ttft     time.Duration
	retry    int
	fb       int
	pending  bool // the first event is read and not yet handed out
	done     bool // the attempt has ended
	err      error

	attemptBuf [1]Attempt
}

// Stream opens a streaming request to the model group (or alias) named by
// req.Model. Retries and fallbacks happen only before the first event: the
// router opens the stream and reads its first event itself before
// returning, so a failure before anything reached the caller is retried
// like any other. After that, a failure ends the stream with an error.
//
// The caller's context bounds the whole stream; canceling it ends the
// upstream stream too. On failure the error is an *Error that lists every
// attempt.
func (r *Router) Stream(ctx context.Context, req *provider.Request, opts ...CallOption) (*StreamResult, error) {
	c := r.newCall(ctx, req, true, opts)
	defer r.freeCall(c)
	err := c.prepare()
	if err == nil {
		err = c.run()
	}
	if err != nil {
		e := c.fail(err)
		c.requestHook(e)
		return nil, e
	}
	s := &StreamResult{
		ModelGroup: c.group.name, Deployment: c.dep.ID(), Retries: c.retries, Fallbacks: c.fallbacks,
		r: r, ctx: ctx, cancel: c.cancel, inner: c.s, dep: c.dep, att: c.att,
		model: c.model, endpoint: c.req.Endpoint, reqStart: c.start, attStart: c.attStart,
		ttft: c.ttft, retry: c.retry, fb: c.fb, pending: c.first,
	}
	s.Attempts = c.copyAttempts(s.attemptBuf[:0])
	s.header = annotate(c.s.Header(), c.group.name, s.Deployment, c.retries, c.fallbacks)
	return s, nil
}

// Header returns a copy of the upstream's response header with the
// router's X-Switchyard-* headers added.
func (s *StreamResult) Header() http.Header { return s.header }

// Next advances to the next event, reporting whether there is one.
func (s *StreamResult) Next() bool {
	if s.pending {
		s.pending = false
		return true
	}
	if s.done {
		return false
	}
	if s.inner.Next() {
		return true
	}
	s.finish(s.inner.Err())
	return false
}

// Event returns the current event; its Data is valid until the next call to
// Next.
func (s *StreamResult) Event() provider.Event { return s.inner.Event() }

// Usage returns the usage reported so far.
func (s *StreamResult) Usage() provider.Usage { return s.inner.Usage() }

// Err returns the error that ended the stream, nil after a clean end or
// Close. It is a *provider.Error naming the deployment.
func (s *StreamResult) Err() error { return s.err }

// Close ends the stream and releases the upstream connection.
func (s *StreamResult) Close() error {
	err := s.inner.Close()
	s.pending = false
	s.finish(nil)
	return err
}

// finish ends the attempt exactly once, with the stream's error (nil for a
// clean end or an early Close), and runs the hooks.
func (s *StreamResult) finish(err error) {
	if s.done {
		return
	}
	s.done = true
	end := s.r.now()
	var pe *provider.Error
	if err != nil {
		pe = normalizeErr(err, s.dep, s.ctx, s.ctx)
		s.err = pe
	}
	usage := s.inner.Usage()
	o := deployment.Outcome{
		Latency: end.Sub(s.attStart), TTFT: s.ttft, Stream: true, Usage: usage, Header: s.inner.Header(),
	}
	if pe != nil {
		o.Err = pe
	}
	s.att.End(end, o)
	if s.cancel != nil {
		s.cancel(nil)
	}
	info := s.dep.Config().Info
	c := cost(usage, info.InputCostPerToken, info.OutputCostPerToken)
	if h := s.r.hooks.OnAttempt; h != nil {
		a := AttemptInfo{
			Model: s.model, ModelGroup: s.ModelGroup, Deployment: s.Deployment, UpstreamModel: s.dep.Config().Model,
			Endpoint: s.endpoint, Stream: true, Start: s.attStart, Latency: o.Latency, TTFT: s.ttft,
			Usage: usage, Cost: c, Retry: s.retry, Fallback: s.fb,
		}
		if pe != nil {
			a.Err, a.Class, a.StatusCode = pe, pe.Class, pe.StatusCode
		}
		h(a)
	}
	if h := s.r.hooks.OnRequest; h != nil {
		ri := RequestInfo{
			Model: s.model, ModelGroup: s.ModelGroup, Deployment: s.Deployment, Endpoint: s.endpoint, Stream: true,
			Start: s.reqStart, Latency: end.Sub(s.reqStart), Attempts: len(s.Attempts),
			Retries: s.Retries, Fallbacks: s.Fallbacks, Usage: usage, Cost: c,
		}
		if s.ttft > 0 {
			ri.TTFT = s.attStart.Add(s.ttft).Sub(s.reqStart)
		}
		if pe != nil {
			ri.Err = pe
		}
		h(ri)
	}
}

var _ provider.Stream = (*StreamResult)(nil)
