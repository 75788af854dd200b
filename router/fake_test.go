package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// step is one scripted answer of a fakeClient.
type step struct {
	err    *provider.Error // returned as is (a fresh copy per call)
	plain  error           // a non-provider error
	header http.Header
	body   string
	usage  provider.Usage
	// block waits until the context ends and returns its error.
	block bool
	// events are a stream's data payloads; midErr ends the stream after
	// them (nil: clean end).
	events []string
	midErr error
	// usageAt, when positive, makes a stream report its usage once that
	// many events were read, before its end (as a final usage chunk does).
	usageAt int
}

// fakeClient is a provider.Client that answers from a script: the i-th call
// gets script[i], the last step repeats. An empty script answers 200 "{}".
type fakeClient struct {
	id string

	mu      sync.Mutex
	script  []step
	calls   int
	reqs    []*provider.Request
	streams []*fakeStream
}

func (f *fakeClient) next(req *provider.Request) step {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	i := f.calls
	f.calls++
	if len(f.script) == 0 {
		return step{}
	}
	return f.script[min(i, len(f.script)-1)]
}

func (f *fakeClient) setScript(s ...step) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

func (f *fakeClient) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (st step) error(ctx context.Context) error {
	if st.block {
		<-ctx.Done()
		return &provider.Error{Class: provider.ClassOf(ctx.Err()), Err: ctx.Err()}
	}
	if st.plain != nil {
		return st.plain
	}
	if st.err != nil {
		e := *st.err
		return &e
	}
	return nil
}

func (f *fakeClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	st := f.next(req)
	if err := st.error(ctx); err != nil {
		return nil, err
	}
	body := st.body
	if body == "" {
		body = `{"id":"x","choices":[{"finish_reason":"stop"}]}`
	}
	return &provider.Response{StatusCode: 200, Header: st.header.Clone(), Body: []byte(body), Usage: st.usage}, nil
}

func (f *fakeClient) Stream(ctx context.Context, req *provider.Request) (provider.Stream, error) {
	st := f.next(req)
	if err := st.error(ctx); err != nil {
		return nil, err
	}
	s := &fakeStream{ctx: ctx, header: st.header.Clone(), events: st.events, midErr: st.midErr, usage: st.usage, usageAt: st.usageAt}
	f.mu.Lock()
	f.streams = append(f.streams, s)
	f.mu.Unlock()
	return s, nil
}

// fakeStream is a scripted provider.Stream that honours its context.
type fakeStream struct {
	ctx     context.Context
	header  http.Header
	events  []string
	midErr  error
	usage   provider.Usage
	usageAt int

	i      int
	cur    provider.Event
	err    error
	closed bool
	ended  bool
}

func (s *fakeStream) Header() http.Header { return s.header }
func (s *fakeStream) Event() provider.Event {
	return s.cur
}
func (s *fakeStream) Usage() provider.Usage {
	if s.ended || (s.usageAt > 0 && s.i >= s.usageAt) {
		return s.usage
	}
	return provider.Usage{}
}
func (s *fakeStream) Err() error { return s.err }
func (s *fakeStream) Close() error {
	s.closed = true
	return nil
}

func (s *fakeStream) Next() bool {
	if s.ended || s.closed {
		return false
	}
	if err := s.ctx.Err(); err != nil {
		s.ended, s.err = true, &provider.Error{Class: provider.ClassOf(err), Err: err}
		return false
	}
	if s.i < len(s.events) {
		s.cur = provider.Event{Data: []byte(s.events[s.i])}
		s.i++
		return true
	}
	s.ended, s.err = true, s.midErr
	return false
}

// fakes makes one fakeClient per deployment, keyed by deployment ID.
type fakes struct {
	mu      sync.Mutex
	clients map[string]*fakeClient
}

func newFakes() *fakes { return &fakes{clients: map[string]*fakeClient{}} }

func (fs *fakes) factory(cfg deployment.Config) (provider.Client, error) {
	return fs.get(cfg.ID), nil
}

func (fs *fakes) get(id string) *fakeClient {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := fs.clients[id]
	if c == nil {
		c = &fakeClient{id: id}
		fs.clients[id] = c
	}
	return c
}

// fakeClock is a clock the test steps; sleep advances it instead of
// sleeping.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// sleeper is a Clock with a fake clock's Now and a test's own Sleep.
type sleeper struct {
	*fakeClock
	sleep func(context.Context, time.Duration) error
}

func (s sleeper) Sleep(ctx context.Context, d time.Duration) error { return s.sleep(ctx, d) }

// dep is a deployment config for tests: group, id, and no key.
func dep(group, id string) deployment.Config {
	return deployment.Config{ID: id, ModelName: group, Model: "openai/" + group}
}

// harness is a router over fake clients with a fake clock.
type harness struct {
	t     *testing.T
	r     *Router
	fakes *fakes
	clock *fakeClock
}

func newHarness(t *testing.T, cfg Config, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, fakes: newFakes(), clock: newClock()}
	base := []Option{
		WithClientFactory(h.fakes.factory),
		WithClock(h.clock),
		WithLogger(slog.New(slog.DiscardHandler)),
		WithRand(1),
	}
	r, err := New(cfg, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.r = r
	return h
}

func (h *harness) client(id string) *fakeClient { return h.fakes.get(id) }

func chatReq(model string) *provider.Request {
	return &provider.Request{Endpoint: provider.EndpointChat, Model: model, Body: []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)}
}

func perr(class provider.Class, status int) *provider.Error {
	return &provider.Error{Class: class, StatusCode: status, Message: class.String()}
}

var errPlain = errors.New("plain failure")

var _ io.Closer = (*fakeStream)(nil)
