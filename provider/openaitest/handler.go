package openaitest

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody caps a request body; larger bodies are refused with 413.
const maxBody = 64 << 20

// defaultModels is what GET /models lists without WithModels.
var defaultModels = []string{"gpt-4o", "gpt-4o-mini", "o4-mini", "text-embedding-3-small", "whisper-1"}

// endpoint is one operation the fake serves.
type endpoint uint8

const (
	epUnknown endpoint = iota
	epChat
	epCompletions
	epEmbeddings
	epResponses
	epTranscriptions
	epModels
	numEndpoints
)

var endpointNames = [numEndpoints]string{"unknown", "chat", "completions", "embeddings", "responses", "transcriptions", "models"}

func (e endpoint) String() string {
	if e < numEndpoints {
		return endpointNames[e]
	}
	return "unknown"
}

// Handler is the fake OpenAI upstream as an http.Handler, for users who
// mount it on their own server; [NewServer] wraps it in an httptest server.
// Its setters and getters are safe for concurrent use, also while requests
// are in flight.
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

	// settable at run time
	reply     atomic.Pointer[string]
	latency   atomic.Int64
	ttft      atomic.Int64
	gap       atomic.Int64
	chunks    atomic.Int64
	intercept atomic.Pointer[InterceptFunc]

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
	h.hist.size = DefaultHistory
	if cfg.historySet {
		h.hist.size = max(cfg.history, 0)
	}
	h.SetReply(cfg.reply)
	h.SetLatency(cfg.latency)
	h.SetStreamTiming(cfg.ttft, cfg.gap, cfg.chunks)
	h.SetIntercept(cfg.intercept)
	return h
}

func defaultEstimate(body []byte) int { return len(body) / 4 }

// SetReply sets the text every answer carries; empty restores the default
// "echo: <last user text>".
func (h *Handler) SetReply(text string) { h.reply.Store(&text) }

// SetLatency sets the delay before each successful non-streaming answer.
func (h *Handler) SetLatency(d time.Duration) { h.latency.Store(int64(d)) }

// SetStreamTiming sets the stream shape, as [WithStreamTiming] does.
func (h *Handler) SetStreamTiming(ttft, gap time.Duration, chunks int) {
	h.ttft.Store(int64(ttft))
	h.gap.Store(int64(gap))
	h.chunks.Store(int64(max(chunks, 0)))
}

// SetIntercept installs f as the escape hatch described at
// [InterceptFunc]; nil removes it.
func (h *Handler) SetIntercept(f InterceptFunc) {
	if f == nil {
		h.intercept.Store(nil)
		return
	}
	h.intercept.Store(&f)
}

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
	if f := h.intercept.Load(); f != nil {
		sw := &statusWriter{ResponseWriter: w}
		if (*f)(sw, r, c.body) {
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

// route sets the endpoint and the Azure details from the path.
func (c *call) route() {
	p := c.r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/openai/"); ok {
		c.azure = true
		switch {
		case strings.HasPrefix(rest, "deployments/"):
			dep, op, found := strings.Cut(rest[len("deployments/"):], "/")
			if !found || dep == "" {
				return
			}
			c.deployment, c.needVersion, p = dep, true, "/"+op
		case strings.HasPrefix(rest, "v1/"):
			p = rest[len("v1"):]
		default:
			c.needVersion, p = true, "/"+rest
		}
	} else if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		p = "/" + rest
	}
	switch p {
	case "/chat/completions":
		c.ep = epChat
	case "/completions":
		c.ep = epCompletions
	case "/embeddings":
		c.ep = epEmbeddings
	case "/responses":
		c.ep = epResponses
	case "/audio/transcriptions":
		c.ep = epTranscriptions
	case "/models":
		c.ep = epModels
	default:
		if id, ok := strings.CutPrefix(p, "/models/"); ok && id != "" {
			c.ep, c.modelID = epModels, id
		}
	}
	want := http.MethodPost
	if c.ep == epModels {
		want = http.MethodGet
	}
	if c.r.Method != want {
		c.ep = epUnknown
	}
}

// readBody reads r whole, allocating once when the length n is known.
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 || n > maxBody {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, n+1) // one spare byte: reading EOF must not grow
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// authenticate checks the key and the organisation and project headers,
// answering 401 when they do not pass.
func (c *call) authenticate() bool {
	if c.key == "" {
		if c.azure {
			c.failAzure(http.StatusUnauthorized, "401", "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.")
		} else {
			c.fail(http.StatusUnauthorized, apiError{Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", Type: "invalid_request_error"})
		}
		return false
	}
	if !c.ks.accepted {
		c.invalidKey()
		return false
	}
	if org := c.r.Header.Get("Openai-Organization"); org != "" && c.ks.cfg.Organization != "" && org != c.ks.cfg.Organization {
		c.fail(http.StatusUnauthorized, apiError{Message: "OpenAI-Organization header should match organization for API key", Type: "invalid_request_error", Code: "mismatched_organization"})
		return false
	}
	if proj := c.r.Header.Get("Openai-Project"); proj != "" && c.ks.cfg.Project != "" && proj != c.ks.cfg.Project {
		c.fail(http.StatusUnauthorized, apiError{Message: "OpenAI-Project header should match project for API key", Type: "invalid_request_error", Code: "mismatched_project"})
		return false
	}
	return true
}

func (c *call) invalidKey() {
	if c.azure {
		c.failAzure(http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
		return
	}
	c.fail(http.StatusUnauthorized, apiError{Message: "Incorrect API key provided: " + redact(c.key) + ". You can find your API key at https://platform.openai.com/account/api-keys.", Type: "invalid_request_error", Code: "invalid_api_key"})
}

// redact shows a key the way OpenAI's 401 message does.
func redact(key string) string {
	if len(key) <= 8 {
		return "***"
	}
	return key[:3] + "***" + key[len(key)-4:]
}

func (c *call) notFound() {
	if c.deployment != "" {
		c.failAzure(http.StatusNotFound, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
		return
	}
	c.fail(http.StatusNotFound, apiError{Message: "The model `" + c.model + "` does not exist or you do not have access to it.", Type: "invalid_request_error", Code: "model_not_found"})
}

// limiter returns the buckets that apply to this request, nil for none.
func (c *call) limiter() *limiter {
	if c.ks == nil {
		return nil
	}
	m := c.model
	if c.deployment != "" {
		m = c.deployment
	}
	return c.ks.group.limiter(m)
}

// cost is the request's token cost: the prompt estimate plus the
// completion allowance.
func (c *call) cost() int {
	switch c.ep {
	case epTranscriptions, epModels:
		return 0
	case epEmbeddings:
		return c.promptTokens
	}
	allowance := DefaultCompletionTokens
	if n := c.req.maxOutput(); n > 0 {
		allowance = n
	}
	return c.promptTokens + allowance
}

// admit takes the request's cost from its buckets, answering 429 when they
// are short.
func (c *call) admit() bool {
	lim := c.limiter()
	if lim == nil {
		return true
	}
	c.rl, c.hasRL = lim.take(c.h.now(), c.cost()), true
	if c.rl.limited == "" {
		return true
	}
	v := c.rl
	model := c.model
	if model == "" {
		model = c.deployment
	}
	var msg string
	if v.limited == "requests" {
		msg = "Rate limit reached for " + model + " on requests per min (RPM): Limit " + strconv.FormatInt(v.rpm, 10) +
			", Used " + strconv.FormatInt(v.used, 10) + ", Requested 1. Please try again in " + formatReset(v.wait) + "."
	} else {
		msg = "Rate limit reached for " + model + " on tokens per min (TPM): Limit " + strconv.FormatInt(v.tpm, 10) +
			", Used " + strconv.FormatInt(v.used, 10) + ", Requested " + strconv.Itoa(c.cost()) + "."
		if v.tooLarge {
			msg = "Request too large for " + model + " on tokens per min (TPM): Limit " + strconv.FormatInt(v.tpm, 10) +
				", Requested " + strconv.Itoa(c.cost()) + ". The input or output tokens must be reduced in order to run successfully."
		} else {
			msg += " Please try again in " + formatReset(v.wait) + "."
		}
	}
	c.rateLimited(v.limited, msg, v.wait)
	return false
}

// rateLimited answers 429 rate_limit_exceeded with retry hints when wait
// is positive.
func (c *call) rateLimited(kind, msg string, wait time.Duration) {
	if wait > 0 {
		hd := c.w.Header()
		hd.Set("Retry-After", retryAfterSeconds(wait))
		hd.Set("Retry-After-Ms", retryAfterMS(wait))
	}
	if c.azure {
		c.failAzure(http.StatusTooManyRequests, "429", "Requests to the Azure OpenAI API have exceeded the "+kind+" rate limit of your current pricing tier. "+msg)
		return
	}
	c.fail(http.StatusTooManyRequests, apiError{Message: msg, Type: nullString(kind), Code: "rate_limit_exceeded"})
}

// setHeaders sets the headers every answer carries; contentLength < 0
// sends none.
func (c *call) setHeaders(contentType string, contentLength int) {
	hd := c.w.Header()
	// One backing array for every value: a header costs no allocation of
	// its own.
	vals := make([]string, 0, 14)
	set := func(k, v string) {
		vals = append(vals, v)
		hd[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if contentType != "" {
		set("Content-Type", contentType)
	}
	if contentLength >= 0 {
		set("Content-Length", strconv.Itoa(contentLength))
	}
	id := c.requestID()
	if c.azure {
		set("Apim-Request-Id", id)
		set("X-Ms-Region", "Fake Region")
	} else {
		set("Openai-Version", "2020-10-01")
		if c.model != "" {
			set("Openai-Model", c.model)
		}
		if c.ks != nil && c.ks.cfg.Organization != "" {
			set("Openai-Organization", c.ks.cfg.Organization)
		}
	}
	set("X-Request-Id", id)
	set("Openai-Processing-Ms", strconv.FormatInt(max(c.h.now().Sub(c.start).Milliseconds(), 0), 10))
	if !c.hasRL {
		return
	}
	v := &c.rl
	if v.rpm > 0 {
		set("X-Ratelimit-Remaining-Requests", strconv.FormatInt(v.remReq, 10))
		if !c.azure {
			set("X-Ratelimit-Limit-Requests", strconv.FormatInt(v.rpm, 10))
			set("X-Ratelimit-Reset-Requests", formatReset(v.resetReq))
		}
	}
	if v.tpm > 0 {
		set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(v.remTok, 10))
		if !c.azure {
			set("X-Ratelimit-Limit-Tokens", strconv.FormatInt(v.tpm, 10))
			set("X-Ratelimit-Reset-Tokens", formatReset(v.resetT))
		}
	}
}

func (c *call) requestID() string {
	var b [24]byte
	out := append(b[:0], "req_"...)
	return string(strconv.AppendUint(out, c.seq, 10))
}

// id returns prefix followed by the request's sequence number, such as
// "chatcmpl-42".
func (c *call) id(prefix string) string {
	return prefix + strconv.FormatUint(c.seq, 10)
}

// writeBody writes a complete answer.
func (c *call) writeBody(status int, contentType string, body []byte) {
	c.setHeaders(contentType, len(body))
	c.status = status
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// sleep waits d, reporting false when the client went away or the server
// closed first.
func (c *call) sleep(d time.Duration) bool {
	if d <= 0 {
		return c.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.r.Context().Done():
		return false
	case <-c.h.closing:
		abort()
		return false
	}
}

// abort cuts the connection (or resets the HTTP/2 stream) without a clean
// end of the answer, through net/http's documented http.ErrAbortHandler
// panic, which the server recovers from silently.
func abort() {
	panic(http.ErrAbortHandler)
}

// statusWriter records the status an InterceptFunc writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets a streaming InterceptFunc flush.
func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var _ http.Handler = (*Handler)(nil)
