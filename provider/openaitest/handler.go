package openaitest

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody caps a request body; larger bodies are refused with 413.
const maxBody = 64 << 20

// defaultModels is what GET /models lists without WithModels.
var defaultModels = []string{"gpt-4o", "gpt-4o-mini", "o4-mini", "text-embedding-3-small", "whisper-1"}

// Handler is the fake OpenAI upstream as an http.Handler, for users who
// mount it on their own server; [NewServer] wraps it in an httptest server.
// Its configuration is fixed by the options given to [NewHandler]; what a
// test changes while requests are in flight is the faults ([Handler.SetFault])
// and, for anything else, an [InterceptFunc] reading the test's own state.
// Its methods are safe for concurrent use, also while requests are in
// flight.
type Handler struct {
	// immutable after NewHandler
	cfg       config
	now       func() time.Time
	estimate  func(body []byte) int
	models    []string
	modelSet  map[string]bool // nil: every model is served
	anyGroup  *limitGroup     // shared buckets for unregistered keys whose anyKeyCfg has a Group
	closing   chan struct{}   // closed by shutdown: ends sleeps and hangs
	closeOnce sync.Once

	faultMu sync.Mutex
	faults  []*faultState // guarded by faultMu
	nfaults atomic.Int32  // len(faults), read without the lock

	keyStates sync.Map // string -> *keyState, every key presented
	seq       atomic.Uint64
	ctr       counters
	hist      history
}

// keyState is one API key: whether it is accepted, its limits and its
// counters.
type keyState struct {
	accepted              bool        // immutable
	cfg                   KeyConfig   // immutable
	group                 *limitGroup // immutable; nil: no limits
	requests, rateLimited atomic.Int64
}

// NewHandler returns a fake OpenAI upstream configured by opts.
func NewHandler(opts ...Option) *Handler {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if len(cfg.keys) == 0 {
		cfg.anyKey = true
	}
	cfg.chunks = max(cfg.chunks, 0)
	h := &Handler{cfg: cfg, now: cfg.now, estimate: cfg.estimate, closing: make(chan struct{})}
	if h.now == nil {
		h.now = time.Now
	}
	if h.estimate == nil {
		h.estimate = defaultEstimate
	}
	h.models = defaultModels
	if cfg.models != nil {
		h.models = cfg.models
		h.modelSet = make(map[string]bool, len(cfg.models))
		for _, m := range cfg.models {
			h.modelSet[m] = true
		}
	}
	groups := make(map[string]*limitGroup)
	for _, k := range cfg.keys {
		g := newLimitGroup(k.cfg)
		if k.cfg.Group != "" {
			if shared, ok := groups[k.cfg.Group]; ok {
				g = shared
			} else {
				groups[k.cfg.Group] = g
			}
		}
		h.keyStates.Store(k.key, &keyState{accepted: true, cfg: k.cfg, group: g})
	}
	if cfg.anyKey && cfg.anyKeyCfg.Group != "" {
		if h.anyGroup = groups[cfg.anyKeyCfg.Group]; h.anyGroup == nil {
			h.anyGroup = newLimitGroup(cfg.anyKeyCfg)
		}
	}
	h.hist.size = defaultHistory
	if cfg.historySet {
		h.hist.size = max(cfg.history, 0)
	}
	return h
}

func defaultEstimate(body []byte) int { return len(body) / 4 }

// shutdown ends every sleep and hang in progress, and all later ones.
func (h *Handler) shutdown() {
	h.closeOnce.Do(func() { close(h.closing) })
}

// keyState returns the state of key, creating it on first sight.
func (h *Handler) keyState(key string) *keyState {
	if v, ok := h.keyStates.Load(key); ok {
		return v.(*keyState)
	}
	ks := &keyState{}
	if h.cfg.anyKey {
		ks.accepted, ks.cfg = true, h.cfg.anyKeyCfg
		if ks.group = h.anyGroup; ks.group == nil {
			ks.group = newLimitGroup(h.cfg.anyKeyCfg)
		}
	}
	v, _ := h.keyStates.LoadOrStore(key, ks)
	return v.(*keyState)
}

// call is one request in progress.
type call struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
	seq   uint64

	ep          endpoint
	azure       bool
	needVersion bool
	deployment  string
	modelID     string // GET /models/{id}
	key         string
	ks          *keyState

	body         []byte
	req          apiRequest
	model        string
	stream       bool
	promptTokens int

	rl       verdict
	hasRL    bool
	fault    FaultKind
	faultCfg Fault
	status   int
	code     string
}

// ServeHTTP serves one request of the OpenAI API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{h: h, w: w, r: r, start: h.now(), seq: h.seq.Add(1)}
	h.ctr.requests.Add(1)
	n := h.ctr.inFlight.Add(1)
	for m := h.ctr.maxInFlight.Load(); n > m && !h.ctr.maxInFlight.CompareAndSwap(m, n); m = h.ctr.maxInFlight.Load() {
	}
	// Deferred so that it runs also when a cut stream aborts the handler.
	defer h.finish(c)
	c.route()
	h.ctr.endpoints[c.ep].Add(1)
	if c.azure {
		c.key = r.Header.Get("Api-Key")
	} else {
		c.key = bearer(r.Header.Get("Authorization"))
	}
	if c.key != "" {
		c.ks = h.keyState(c.key)
		c.ks.requests.Add(1)
	}
	if r.Body != nil {
		b, err := readBody(http.MaxBytesReader(w, r.Body, maxBody), r.ContentLength)
		c.body = b
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.fail(http.StatusRequestEntityTooLarge, apiError{Message: "Request body too large.", Type: "invalid_request_error"})
			} else {
				c.fail(http.StatusBadRequest, apiError{Message: "Could not read the request body.", Type: "invalid_request_error"})
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if f := h.cfg.intercept; f != nil {
		sw := &statusWriter{ResponseWriter: w}
		if f(sw, r, c.body) {
			// net/http answers 200 for a handler that wrote nothing.
			c.status = cmp.Or(sw.status, http.StatusOK)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(c.body))
	}
	c.serve()
}

// serve runs the pipeline: route check, authentication, parsing, model
// check, limits, faults, then the endpoint.
func (c *call) serve() {
	h, r := c.h, c.r
	if c.ep == epUnknown {
		c.fail(http.StatusNotFound, apiError{Message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")", Type: "invalid_request_error"})
		return
	}
	if c.needVersion && r.URL.Query().Get("api-version") == "" {
		c.failAzure(http.StatusNotFound, "404", "Resource not found. The api-version query parameter is missing.")
		return
	}
	if !c.authenticate() {
		return
	}
	if !c.parse() {
		return
	}
	if h.modelSet != nil {
		if c.deployment != "" && !h.modelSet[c.deployment] {
			c.notFound()
			return
		}
		if c.deployment == "" && c.model != "" && !h.modelSet[c.model] {
			c.notFound()
			return
		}
	}
	// Limits come first, as at OpenAI's front door: a refused request
	// neither reaches nor uses up a fault, and a failing one still costs.
	if !c.admit() {
		return
	}
	if f, ok := h.takeFault(c); ok {
		c.fault = f.Kind
		if c.injectBefore(f) {
			return
		}
	}
	switch c.ep {
	case epChat:
		c.chat()
	case epCompletions:
		c.completions()
	case epEmbeddings:
		c.embeddings()
	case epResponses:
		c.responses()
	case epTranscriptions:
		c.transcription()
	case epModels:
		c.listModels()
	}
}

// finish records the request and settles the counters.
func (h *Handler) finish(c *call) {
	h.ctr.inFlight.Add(-1)
	if c.status > 0 && c.status < len(h.ctr.status) {
		h.ctr.status[c.status].Add(1)
	}
	if c.code == "rate_limit_exceeded" || (c.status == http.StatusTooManyRequests && c.azure && c.code == "429") {
		h.ctr.rateLimited.Add(1)
		if c.ks != nil {
			c.ks.rateLimited.Add(1)
		}
	}
	if h.hist.size == 0 {
		return
	}
	body := c.body
	if len(body) > maxRecordedBody {
		body = body[:maxRecordedBody]
	}
	h.hist.add(RecordedRequest{
		Time: c.start, Method: c.r.Method, Path: c.r.URL.Path, RawQuery: c.r.URL.RawQuery,
		Endpoint: c.ep.String(), Azure: c.azure, Deployment: c.deployment, Key: c.key,
		Model: c.model, Stream: c.stream, Header: c.r.Header.Clone(), Body: body,
		Status: c.status, ErrorCode: c.code, Fault: c.fault,
	})
}

var _ http.Handler = (*Handler)(nil)
