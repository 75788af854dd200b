package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-go/switchyard/internal/httphdr"
	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
)

// DefaultMaxResponseBytes bounds the size of a non-streaming answer (an
// embeddings answer for 2,048 inputs of 3,072 floats is about 130 MB).
const DefaultMaxResponseBytes = 512 << 20

// DefaultUserAgent is the User-Agent sent when Config.UserAgent is empty.
const DefaultUserAgent = "switchyard-openai/1"

// Client sends requests to one OpenAI, Azure OpenAI or OpenAI-compatible
// deployment. It implements [provider.Client]. A Client is immutable after
// New and safe for concurrent use.
type Client struct {
	cfg       Config
	route     route
	modelJSON []byte // the model sent upstream, as a JSON string
	hc        *http.Client
	urls      [numEndpoints]string
	header    http.Header // sent with every request
	timeout   time.Duration
	doCause   *timeoutError // the cause of a Do that ran out of timeout
	streamTO  time.Duration
	maxBody   int64
	now       func() time.Time
	peeks     sync.Pool // of *[]byte, the first parts of pass-through answers
}

const numEndpoints = int(provider.EndpointTranscriptions) + 1

// New returns a Client for the deployment cfg describes. It reads the
// OPENAI_BASE_URL environment variable when cfg.BaseURL is empty, and
// OPENAI_API_KEY, OPENAI_ORGANIZATION and OPENAI_PROJECT as Config's
// fields say. An
// invalid configuration yields a *ConfigError naming the field.
func New(cfg Config) (*Client, error) {
	azure := strings.HasPrefix(cfg.Model, "azure/")
	base, custom, err := resolveBase(&cfg, azure)
	if err != nil {
		return nil, err
	}
	r, err := parseModel(cfg.Model, custom)
	if err != nil {
		return nil, err
	}
	if err := applyEnv(&cfg, r, custom); err != nil {
		return nil, err
	}
	var he *httphdr.Error
	if err := httphdr.Check(cfg.ExtraHeaders); errors.As(err, &he) {
		return nil, &ConfigError{Field: "ExtraHeaders", Msg: he.Msg}
	}
	if r.mode == modeAzure && strings.TrimSpace(cfg.APIVersion) == "" {
		return nil, &ConfigError{Field: "APIVersion", Msg: "is required for an azure/ model (Azure's api-version, such as 2024-10-21)"}
	}
	if cfg.Timeout < 0 {
		return nil, &ConfigError{Field: "Timeout", Value: cfg.Timeout.String(), Msg: "must not be negative"}
	}
	if cfg.StreamTimeout < 0 {
		return nil, &ConfigError{Field: "StreamTimeout", Value: cfg.StreamTimeout.String(), Msg: "must not be negative"}
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, &ConfigError{Field: "MaxResponseBytes", Value: strconv.FormatInt(cfg.MaxResponseBytes, 10), Msg: "must not be negative"}
	}
	cfg.ExtraHeaders = cfg.ExtraHeaders.Clone()
	c := &Client{
		cfg:       cfg,
		route:     r,
		modelJSON: quoteJSON(r.upstream),
		hc:        cfg.HTTPClient,
		timeout:   cfg.Timeout,
		streamTO:  cfg.StreamTimeout,
		maxBody:   cfg.MaxResponseBytes,
		now:       cfg.Now,
	}
	if c.hc == nil {
		c.hc = sharedClient()
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.streamTO == 0 {
		c.streamTO = c.timeout
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.doCause = &timeoutError{what: "no complete answer", d: c.timeout}
	c.peeks.New = newPeek
	c.buildURLs(base)
	c.buildHeader()
	for k, v := range cfg.ExtraHeaders {
		c.header[http.CanonicalHeaderKey(k)] = v
	}
	return c, nil
}

// buildURLs precomputes the URL of every endpoint.
func (c *Client) buildURLs(base *url.URL) {
	for ep := provider.EndpointChat; int(ep) < numEndpoints; ep++ {
		u := *base
		if c.route.mode == modeAzure {
			root := strings.TrimSuffix(u.Path, "/openai")
			if ep == provider.EndpointResponses {
				u.Path = root + "/openai/responses"
			} else {
				u.Path = root + "/openai/deployments/" + c.route.upstream + ep.Path() // String escapes it
			}
			q := u.Query()
			q.Set("api-version", strings.TrimSpace(c.cfg.APIVersion))
			u.RawQuery = q.Encode()
		} else {
			u.Path += ep.Path()
		}
		c.urls[ep] = u.String()
	}
}

// buildHeader sets the headers every request carries.
func (c *Client) buildHeader() {
	h := http.Header{}
	h.Set("Accept", "application/json")
	ua := c.cfg.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	h.Set("User-Agent", ua)
	if c.cfg.APIKey != "" {
		if c.route.mode == modeAzure {
			h.Set("Api-Key", c.cfg.APIKey)
		} else {
			h.Set("Authorization", "Bearer "+c.cfg.APIKey)
		}
	}
	if c.cfg.Organization != "" {
		h.Set("OpenAI-Organization", c.cfg.Organization)
	}
	if c.cfg.Project != "" {
		h.Set("OpenAI-Project", c.cfg.Project)
	}
	c.header = h
}

// UpstreamModel returns the model sent upstream (for Azure, the deployment
// name).
func (c *Client) UpstreamModel() string { return c.route.upstream }

// String describes the Client without its secrets.
func (c *Client) String() string { return "openai.Client(" + c.cfg.String() + ")" }

// GoString is String, so that %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// call is one request ready to send.
type call struct {
	ep          provider.Endpoint // the endpoint actually called upstream
	body        []byte
	contentType string
	convert     conversion
}

// conversion is how an answer is turned back into what the caller asked
// for.
type conversion uint8

const (
	convNone           conversion = iota
	convResponsesChat             // the Responses bridge
	convCompletionChat            // text-completion-openai chat
)

// prepare validates req and builds the body to send.
func (c *Client) prepare(req *provider.Request, stream bool) (*call, error) {
	if req == nil {
		return nil, c.badRequest("", "nil request", nil)
	}
	if int(req.Endpoint) >= numEndpoints || req.Endpoint == provider.EndpointUnknown {
		return nil, c.badRequest("", fmt.Sprintf("unknown endpoint %d", req.Endpoint), nil)
	}
	if req.Stream != stream {
		if stream {
			return nil, c.badRequest("stream", "Stream called with a request whose Stream is false", nil)
		}
		return nil, c.badRequest("stream", "Do called with a streaming request: use Stream", nil)
	}
	p := &call{ep: req.Endpoint, contentType: "application/json"}
	switch req.Endpoint {
	case provider.EndpointTranscriptions:
		if stream {
			return nil, c.badRequest("stream", "streaming transcriptions are not supported", nil)
		}
		if req.Form == nil {
			return nil, c.badRequest("file", "a transcription needs a Form", nil)
		}
		p.body, p.contentType = formBody(req.Form, c.route.upstream)
		return p, nil
	case provider.EndpointEmbeddings:
		if stream {
			return nil, c.badRequest("stream", "embeddings cannot stream", nil)
		}
	}
	if len(req.Body) == 0 {
		return nil, c.badRequest("", "empty request body", nil)
	}
	if req.Endpoint == provider.EndpointChat && c.route.bridge {
		// Stream is set on the chat body first: the bridge carries it over.
		body, info, err := rewriteBody(req.Body, nil, stream)
		if err != nil {
			return nil, c.badRequest("", "request body is not a JSON object", err)
		}
		if info.stream && !stream {
			return nil, c.badRequest("stream", `the body asks for "stream": true; use Stream`, nil)
		}
		body, err = chatToResponsesRequest(body, c.route.upstream)
		if err != nil {
			return nil, c.wrapErr(err, provider.ClassBadRequest, "openai: responses bridge: request")
		}
		p.ep, p.body, p.convert = provider.EndpointResponses, body, convResponsesChat
		return p, nil
	}
	if req.Endpoint == provider.EndpointChat && c.route.mode == modeTextCompletion {
		body, err := chatToCompletionRequest(req.Body, c.modelJSON, stream)
		if err != nil {
			return nil, c.wrapErr(err, provider.ClassBadRequest, "openai: text completion: request")
		}
		p.ep, p.body, p.convert = provider.EndpointCompletions, body, convCompletionChat
		return p, nil
	}
	body, info, err := rewriteBody(req.Body, c.modelJSON, stream)
	if err != nil {
		return nil, c.badRequest("", "request body is not a JSON object", err)
	}
	if info.stream && !stream {
		return nil, c.badRequest("stream", `the body asks for "stream": true; use Stream`, nil)
	}
	p.body = body
	return p, nil
}

// newHTTPRequest builds the upstream request for p.
func (c *Client) newHTTPRequest(ctx context.Context, p *call, extra http.Header) (*http.Request, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.urls[p.ep], bytes.NewReader(p.body))
	if err != nil {
		return nil, err
	}
	h := c.header.Clone()
	h["Content-Type"] = []string{p.contentType}
	for k, v := range extra {
		h[http.CanonicalHeaderKey(k)] = v
	}
	hr.Header = h
	return hr, nil
}

// Do sends a non-streaming request and returns the upstream's answer. The
// call is bounded by ctx and by req.Timeout (else Config.Timeout), for a
// pass-through body until it has been read or closed. Every failure is a
// *provider.Error. An answer larger than req.MaxResponseBytes (else
// Config.MaxResponseBytes) fails, naming the limit.
//
// With req.PassThrough, a 2xx answer larger than a first read (32 KiB) is
// returned in Response.Reader, which gives the body as it arrives instead
// of reading it whole (see passthrough.go); a smaller one, and an answer
// the Client converts (the Responses bridge, text-completion chat), is
// read whole as without it.
func (c *Client) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	p, err := c.prepare(req, false)
	if err != nil {
		return nil, err
	}
	d, cause := c.timeout, c.doCause
	if req.Timeout > 0 && req.Timeout != d {
		d, cause = req.Timeout, &timeoutError{what: "no complete answer", d: req.Timeout}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d, cause)
	handedOver := false // to a pass-through body, which cancels ctx when done
	defer func() {
		if !handedOver {
			cancel()
		}
	}()
	hr, err := c.newHTTPRequest(ctx, p, req.Header)
	if err != nil {
		return nil, c.wrapErr(err, provider.ClassBadRequest, "openai: build request")
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, c.transportErr(ctx, err)
	}
	limit := c.maxBody
	if req.MaxResponseBytes > 0 {
		limit = req.MaxResponseBytes
	}
	if req.PassThrough && p.convert == convNone && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		out, body, err := c.passThrough(ctx, cancel, resp, limit)
		if out != nil {
			handedOver = true
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		return c.finish(p, resp, body)
	}
	body, err := c.readBody(resp, limit)
	if err != nil {
		return nil, c.transportErr(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.upstreamErr(resp.StatusCode, resp.Header, body)
	}
	return c.finish(p, resp, body)
}

// readBody reads and closes resp.Body, up to limit bytes.
func (c *Client) readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	if n := resp.ContentLength; n >= 0 {
		if n > limit {
			return nil, tooLarge(n, limit)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(-1, limit)
	}
	return b, nil
}

// finish checks a 2xx answer, reads its usage and converts it back when
// the request was converted.
func (c *Client) finish(p *call, resp *http.Response, body []byte) (*provider.Response, error) {
	out := &provider.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	if p.ep == provider.EndpointTranscriptions && !isJSON(resp.Header) {
		return out, nil // response_format text, srt or vtt
	}
	var usageRaw, errObj []byte
	it := jsonscan.Members(body, jsonscan.Fast)
	for it.Next() {
		switch {
		case it.KeyIs("usage"):
			usageRaw = it.Value()
		case it.KeyIs("error"):
			errObj = it.Value()
		}
	}
	if err := it.Err(); err != nil {
		return nil, c.garbage(resp, body, err)
	}
	if !isNull(errObj) {
		// A 200 that carries an error (some compatible servers do this).
		return nil, c.upstreamErr(resp.StatusCode, resp.Header, body)
	}
	out.Usage = usage.Parse(usageRaw)
	switch p.convert {
	case convResponsesChat:
		chat, u, err := responsesToChat(body)
		if err != nil {
			return nil, c.wrapErr(err, provider.ClassConnection, "openai: responses bridge: answer")
		}
		out.Body, out.Usage = chat, u
	case convCompletionChat:
		chat, err := completionToChat(body)
		if err != nil {
			return nil, c.wrapErr(err, provider.ClassConnection, "openai: text completion: answer")
		}
		out.Body = chat
	}
	return out, nil
}

// isJSON reports whether a response's Content-Type is JSON or absent.
func isJSON(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

var _ provider.Client = (*Client)(nil)
