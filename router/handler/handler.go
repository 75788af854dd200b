package handler

import (
	"bytes"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// Handler serves a Router over HTTP with OpenAI's API; see the package
// documentation for the endpoints. Make one with New. A Handler is safe for
// concurrent use; its configuration is immutable after New.
type Handler struct {
	// immutable after New
	r                *router.Router
	auth             keySet
	opsKeys          keySet // open /metrics and /health/readiness when protected
	opsProtected     bool
	maxBody          int64
	maxUpload        int64
	maxResponse      int64         // 0: the client's own limit
	bodyTimeout      time.Duration // between two reads of a request body; <= 0: none
	rateLimitHeaders bool
	tagRouting       bool
	providerHeaders  bool
	forward          []string // canonical header names forwarded upstream
	aliases          []string
	metrics          *Metrics
	callOptions      func(*http.Request) []router.CallOption
	log              *slog.Logger
	now              func() time.Time
	created          int64 // "created" of the models list

	bufs     sync.Pool   // of *bytes.Buffer, request bodies and SSE frames
	copyBufs sync.Pool   // of *[]byte, for answers passed through
	draining atomic.Bool // set by Drain
}

// New returns a Handler serving r. Without r (nil) every API endpoint
// answers 503; health endpoints still answer.
func New(r *router.Router, opts ...Option) *Handler {
	h := &Handler{
		r:                r,
		maxBody:          DefaultMaxBodyBytes,
		maxUpload:        DefaultMaxUploadBytes,
		bodyTimeout:      DefaultBodyReadTimeout,
		rateLimitHeaders: true,
		tagRouting:       true,
		log:              slog.Default(),
		now:              time.Now,
	}
	if r != nil {
		h.now = r.Clock().Now
	}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	if h.metrics != nil {
		h.metrics.watch(r)
	}
	h.created = h.now().Unix()
	h.bufs.New = func() any { return new(bytes.Buffer) }
	return h
}

// Header values shared by every answer; never modified.
var (
	jsonContentType = []string{"application/json"}
	sseContentType  = []string{"text/event-stream"}
	noCache         = []string{"no-cache"}
	noBuffering     = []string{"no"}
)

// ServeHTTP routes the request to its endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	p := path
	if strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if h.draining.Load() && h.refuseDraining(w, p) {
		return
	}
	switch p {
	case "/chat/completions":
		h.serveAPI(w, r, provider.EndpointChat, "")
	case "/completions":
		h.serveAPI(w, r, provider.EndpointCompletions, "")
	case "/embeddings":
		h.serveAPI(w, r, provider.EndpointEmbeddings, "")
	case "/responses":
		h.serveAPI(w, r, provider.EndpointResponses, "")
	case "/audio/transcriptions":
		h.serveAPI(w, r, provider.EndpointTranscriptions, "")
	case "/models":
		if h.method(w, r, http.MethodGet) && h.authorize(w, r, provider.EndpointUnknown) {
			h.serveModels(w)
		}
	case "/health", "/health/liveness", "/health/liveliness":
		if h.method(w, r, http.MethodGet) {
			h.serveLiveness(w)
		}
	case "/health/readiness":
		if h.method(w, r, http.MethodGet) && h.authorizeOps(w, r) {
			h.serveReadiness(w)
		}
	case "/metrics":
		if h.metrics == nil {
			h.notFound(w, r)
		} else if h.method(w, r, http.MethodGet) && h.authorizeOps(w, r) {
			h.metrics.ServeHTTP(w, r)
		}
	default:
		switch {
		case strings.HasPrefix(p, "/models/") && len(p) > len("/models/"):
			if h.method(w, r, http.MethodGet) && h.authorize(w, r, provider.EndpointUnknown) {
				h.serveModel(w, p[len("/models/"):])
			}
		case strings.HasPrefix(path, "/openai/deployments/"):
			h.serveAzure(w, r, path[len("/openai/deployments/"):])
		default:
			h.notFound(w, r)
		}
	}
}

// serveAzure serves Azure OpenAI's path form,
// /openai/deployments/{model}/{endpoint}: the model comes from the path.
func (h *Handler) serveAzure(w http.ResponseWriter, r *http.Request, rest string) {
	model, ep, ok := strings.Cut(rest, "/")
	if !ok || model == "" {
		h.notFound(w, r)
		return
	}
	for e := provider.EndpointChat; e <= provider.EndpointTranscriptions; e++ {
		if "/"+ep == e.Path() {
			h.serveAPI(w, r, e, model)
			return
		}
	}
	h.notFound(w, r)
}

// notFound answers 404 for a path the handler does not serve, as OpenAI
// does.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "unknown_url",
		message: "Invalid URL (" + clip(r.Method, 20) + " " + clip(r.URL.Path, maxEchoedPath) + ")", class: "not_found"})
}

// method reports whether r uses want (HEAD counts as GET), answering 405
// otherwise.
func (h *Handler) method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want || want == http.MethodGet && r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", want)
	h.writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error", code: "method_not_allowed",
		message: "Method " + clip(r.Method, 20) + " not allowed for " + clip(r.URL.Path, maxEchoedPath) + "; use " + want, class: "method_not_allowed"})
	return false
}

// authorize reports whether r carries a valid key (or none is needed),
// answering 401 otherwise.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, ep provider.Endpoint) bool {
	if !h.auth.enabled() {
		return true
	}
	key := requestKey(r)
	if h.auth.valid(key) {
		return true
	}
	msg := "Incorrect API key provided. Send a valid key as \"Authorization: Bearer <key>\" or \"api-key: <key>\"."
	if key == "" {
		msg = "You didn't provide an API key. Send it as \"Authorization: Bearer <key>\" or \"api-key: <key>\"."
	}
	h.refuse(w, ep, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: msg, class: "unauthorized"})
	return false
}

// refuse answers e for a request the handler turned away before routing
// it, counting it in the metrics.
func (h *Handler) refuse(w http.ResponseWriter, ep provider.Endpoint, e *apiError) {
	if h.metrics != nil {
		h.metrics.refused(ep, e.class)
	}
	h.writeError(w, e)
}

// serveAPI serves one API call: it reads the request, routes it and
// writes the answer or the error.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, ep provider.Endpoint, pathModel string) {
	if !h.method(w, r, http.MethodPost) || !h.authorize(w, r, ep) {
		return
	}
	if h.r == nil {
		h.writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "no_router",
			message: "no router is configured", class: "closed"})
		return
	}
	var (
		req  provider.Request
		tags []string
		aerr *apiError
		buf  *bytes.Buffer
		done bool // the upstream answered; buf may be reused
	)
	req.Endpoint = ep
	if ep == provider.EndpointTranscriptions {
		aerr = h.readForm(w, r, &req)
	} else {
		buf = h.getBuf()
		tags, aerr = h.readJSON(w, r, buf, &req)
		// The buffer is reused only after an answer: an upstream that
		// failed early might, in theory, still be reading the body.
		defer func() {
			if done {
				h.putBuf(buf)
			}
		}()
	}
	if aerr == nil && pathModel != "" {
		req.Model = pathModel
	}
	if aerr == nil && req.Model == "" {
		aerr = badRequest("model", "missing_model", "you must provide a model parameter")
	}
	if aerr != nil {
		done = true // nothing was sent upstream
		h.refuse(w, ep, aerr)
		return
	}
	tags = headerTags(r, tags)

	var optBuf [2]router.CallOption
	opts := optBuf[:0]
	if len(tags) > 0 && h.tagRouting {
		opts = append(opts, router.WithTags(tags...))
	}
	if fh := h.forwardedHeader(r); fh != nil {
		opts = append(opts, router.WithHeader(fh))
	}
	if h.callOptions != nil {
		opts = append(opts, h.callOptions(r)...)
	}
	if req.Stream {
		done = h.serveStream(w, r, &req, opts)
		return
	}
	// Large answers flow through unless the router needs them whole (its
	// response cache, a content-policy check): see writeReader.
	req.PassThrough, req.MaxResponseBytes = true, h.maxResponse
	res, err := h.r.Do(r.Context(), &req, opts...)
	if err != nil {
		h.fail(w, r, err, req.Model)
		return
	}
	done = true
	h.writeResult(w, res)
}

// readJSON reads a JSON body into buf and sets req's Body, Model and
// Stream from it, returning the request's tags.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, req *provider.Request) ([]string, *apiError) {
	if e := readBody(w, r, buf, h.maxBody, h.bodyTimeout); e != nil {
		return nil, e
	}
	body := buf.Bytes()
	var f fields
	if e := scanFields(body, &f); e != nil {
		return nil, e
	}
	var tags []string
	if f.Metadata != nil && f.Metadata.Tags != nil {
		tags = f.Metadata.Tags
		stripped, err := stripTags(body)
		if err != nil {
			return nil, badRequest("metadata", "invalid_json", "reading metadata: "+err.Error())
		}
		body = stripped
	}
	req.Body, req.Model = body, f.Model
	req.Stream = f.Stream && req.Endpoint != provider.EndpointEmbeddings
	return tags, nil
}

// forwardedHeader returns the client headers to forward upstream, nil
// when there are none.
func (h *Handler) forwardedHeader(r *http.Request) http.Header {
	var out http.Header
	for _, k := range h.forward {
		if v := r.Header[k]; len(v) > 0 {
			if out == nil {
				out = make(http.Header, len(h.forward))
			}
			out[k] = v
		}
	}
	return out
}

// fail writes the answer for a routing error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, model string) {
	e := h.routeError(err, model)
	if e.status == statusClientClosedRequest {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "handler: client went away", slog.String("model", clip(model, maxEchoedModel)))
	} else if h.log.Enabled(r.Context(), slog.LevelWarn) {
		level := slog.LevelWarn
		if e.status < 500 && e.status != http.StatusTooManyRequests {
			level = slog.LevelDebug
		}
		h.log.LogAttrs(r.Context(), level, "handler: request failed",
			slog.String("path", clip(r.URL.Path, maxEchoedPath)), slog.String("model", clip(model, maxEchoedModel)),
			slog.Int("status", e.status), slog.String("error", err.Error()))
	}
	h.writeError(w, e)
}

// writeResult writes a non-streaming answer: the upstream's status and
// body as received, with the headers chosen by the options.
func (h *Handler) writeResult(w http.ResponseWriter, res *router.Result) {
	if res.Reader != nil {
		h.writeReader(w, res)
		return
	}
	hdr := w.Header()
	h.copyUpstreamHeaders(hdr, res.Header)
	if ct := res.Response.Header["Content-Type"]; len(ct) > 0 {
		hdr["Content-Type"] = ct
	} else {
		hdr["Content-Type"] = jsonContentType
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(res.Body))}
	status := res.StatusCode
	if status < 200 || status > 299 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(res.Body)
}

// copyUpstreamHeaders copies to dst the headers of up to give the client:
// the router's X-Switchyard-* headers always, the rate-limit headers when
// enabled, and every header with an llm_provider- prefix when enabled.
func (h *Handler) copyUpstreamHeaders(dst, up http.Header) {
	for k, v := range up {
		if strings.HasPrefix(k, "X-Switchyard-") {
			dst[k] = v
			continue
		}
		if h.rateLimitHeaders && isRateLimitHeader(k) {
			dst[k] = v
		}
		if h.providerHeaders {
			dst["llm_provider-"+strings.ToLower(k)] = v
		}
	}
}

// isRateLimitHeader reports whether the canonical header name k is one of
// the upstream's rate-limit headers.
func isRateLimitHeader(k string) bool {
	return strings.HasPrefix(k, "X-Ratelimit-") || strings.HasPrefix(k, "Anthropic-Ratelimit-")
}

// modelNames returns the names a client may ask for: the model groups and
// the listed aliases, sorted.
func (h *Handler) modelNames() []string {
	var names []string
	if h.r != nil {
		names = h.r.ModelGroups()
	}
	for _, a := range h.aliases {
		if !slices.Contains(names, a) {
			names = append(names, a)
		}
	}
	slices.Sort(names)
	return names
}
