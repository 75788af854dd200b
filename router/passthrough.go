package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// Pass-through answers. A Do call whose provider.Request has PassThrough
// set may get its answer as Result.Reader (Result.Body nil) when the
// deployment's Client supports it (the OpenAI client does for answers
// larger than a first read), so that a large answer flows from the
// upstream to the caller without being held whole. The router drops
// PassThrough for an attempt when something needs the whole body: its
// response cache stores the answer (WithResponseCache, unless the call
// says no-store), or the model group has content-policy fallbacks, whose
// finish_reason check reads a chat or completion body.
//
// The status and headers are known before any byte reaches the caller,
// so everything up to them (connection errors, 429, 5xx, a small answer
// read whole) is retried as usual. Once Do has returned the Reader, the
// call is the caller's: a body cut while it flows (or cut at
// Request.MaxResponseBytes) is an error from Read, never retried and never
// a silent truncation. As for a stream, the attempt stays open until the
// body has been read to its end, failed or been closed: only then does the
// deployment count it (in flight, usage against tpm, health, the shared
// state) and the hooks (OnAttempt, OnRequest) report it, with the usage
// read from the body as it passed. The rate-limit headers are dated when
// they arrived; the latency the deployment learns from is the time to the
// headers and first part, not the time the caller takes to read the rest.
// Result.Attempts is complete when Do returns.

// attemptRequest returns the request to send to a deployment of g: c.req,
// or a copy without PassThrough when g has content-policy fallbacks that
// need the body.
func (c *call) attemptRequest(g *group) *provider.Request {
	if !c.req.PassThrough || !c.needsBody(g) {
		return c.req
	}
	if c.wholeReq == nil {
		cp := *c.req
		cp.PassThrough = false
		c.wholeReq = &cp
	}
	return c.wholeReq
}

// needsBody reports whether the answer of a deployment of g is checked
// for a content-filter finish (see contentFiltered).
func (c *call) needsBody(g *group) bool {
	if c.opts.noFallbacks || len(c.r.set.cpFallbacks[g.name]) == 0 {
		return false
	}
	e := c.req.Endpoint
	return e == provider.EndpointChat || e == provider.EndpointCompletions
}

// wholeBody returns req without PassThrough, for a call whose answer the
// response cache stores.
func wholeBody(req *provider.Request) *provider.Request {
	if !req.PassThrough {
		return req
	}
	cp := *req
	cp.PassThrough = false
	return &cp
}

// passOpen makes attempt a, whose answer resp came as a Reader, the one
// that serves the call, keeping its deployment attempt open until the body
// ends.
func (c *call) passOpen(g *group, d *deployment.Deployment, att deployment.Attempt, sh sharedAttempt,
	cancel context.CancelFunc, resp *provider.Response, a attemptResult) attemptResult {
	a.status = resp.StatusCode
	live := liveAttempt{group: g, dep: d, start: a.start, ttft: a.latency(), attempt: att, shared: sh}
	if cancel != nil {
		live.cancel = func(error) { cancel() }
	}
	c.served = served{liveAttempt: live, status: a.status, resp: resp}
	return a
}

// passing reports whether the call's answer is a pass-through body still
// to be read.
func (c *call) passing() bool {
	return !c.stream && c.served.resp != nil && c.served.resp.Reader != nil
}

// passResult gives res the served pass-through body, wrapped so that its
// end ends the attempt and runs the hooks. res gets a copy of the
// client's Response (sharing its header), so that nothing the cleanup of
// an abandoned body reaches refers to the body itself.
func (c *call) passResult(res *Result) {
	sv := &c.served
	st := &passState{
		r: c.r, ctx: c.ctx, inner: sv.resp.Reader, resp: sv.resp, model: c.model, endpoint: c.req.Endpoint,
		metadata: c.opts.metadata, reqStart: c.start, live: sv.liveAttempt,
		attempts: len(c.attempts), retries: c.retries, fallbacks: c.fallbacks,
	}
	out := *sv.resp
	b := &passReader{st: st, out: &out}
	out.Reader = b
	b.cleanup = runtime.AddCleanup(b, (*passState).abandon, st)
	res.Response = &out
}

// passReader is the Reader of a pass-through Result. It is not safe for
// concurrent use.
type passReader struct {
	st      *passState
	out     *provider.Response // the caller's: its Usage is set at the end
	cleanup runtime.Cleanup
}

// passState is the live part of a passReader, apart so that the cleanup
// of an abandoned one can reach it.
type passState struct {
	r        *Router
	ctx      context.Context // the caller's
	inner    io.ReadCloser
	resp     *provider.Response // the client's, whose Usage its body sets at the end
	model    string
	endpoint provider.Endpoint
	metadata map[string]string
	reqStart time.Time
	// live is the attempt that answered; live.ttft is its time to the
	// headers (and the first part of the body).
	live                         liveAttempt
	attempts, retries, fallbacks int
	done                         bool
	err                          error // a *provider.Error once the body failed
}

// Read reads the body. A failure is a *provider.Error naming the
// deployment; after it, or after Close, Read returns it (or an error)
// again.
func (b *passReader) Read(p []byte) (int, error) {
	st := b.st
	if st.err != nil {
		return 0, st.err
	}
	n, err := st.inner.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.cleanup.Stop()
		st.finish(nil, false)
		b.out.Usage = st.resp.Usage
	default:
		b.cleanup.Stop()
		st.finish(err, false)
		if st.err != nil {
			err = st.err
		}
	}
	return n, err
}

// Close releases the upstream connection. A body closed before its end
// is reported to the hooks as closed early (ClosedEarly).
func (b *passReader) Close() error {
	b.cleanup.Stop()
	err := b.st.inner.Close()
	b.st.finish(nil, true)
	return err
}

// abandon ends a body its caller dropped without closing it, on the
// garbage collector's cleanup goroutine.
func (st *passState) abandon() {
	if st.done {
		return
	}
	_ = st.inner.Close()
	st.r.log.LogAttrs(context.Background(), slog.LevelWarn, "router: answer body dropped without Close",
		slog.String("model_group", st.live.group.name), slog.String("deployment", st.live.dep.ID()))
	st.finish(nil, true)
}

// finish ends the attempt exactly once, with the body's error (nil for
// its end or a Close; closed reports a Close), and runs the hooks.
func (st *passState) finish(err error, closed bool) {
	if st.done {
		return
	}
	st.done = true
	sv := &st.live
	a := attemptResult{start: sv.start, end: st.r.clock.Now(), status: st.resp.StatusCode, usage: st.resp.Usage}
	if err != nil {
		a.err = normalizeErr(err, sv.dep, st.ctx, st.ctx)
		st.err = a.err
	}
	c := st.r.settle(st.ctx, sv, &a, deployment.Outcome{
		Latency: sv.ttft, Usage: a.usage, Header: st.resp.Header,
		HeaderAt: sv.start.Add(sv.ttft), CallerEnded: st.ctx.Err() != nil,
	})
	if h := st.r.hooks.OnAttempt; h != nil {
		h(st.ctx, sv.info(st.model, st.endpoint, st.metadata, &a, c, closed))
	}
	if h := st.r.hooks.OnRequest; h != nil {
		ri := RequestInfo{
			Model: st.model, ModelGroup: sv.group.name, Deployment: sv.dep.ID(), Endpoint: st.endpoint,
			Metadata: st.metadata, Start: st.reqStart, Latency: a.end.Sub(st.reqStart), Attempts: st.attempts,
			Retries: st.retries, Fallbacks: st.fallbacks, Usage: a.usage, Cost: c, ClosedEarly: closed,
		}
		if a.err != nil {
			ri.Err = a.err
		}
		h(st.ctx, ri)
	}
}

var _ io.ReadCloser = (*passReader)(nil)
