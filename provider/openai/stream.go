package openai

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/internal/wire"
)

// maxStreamErrorBody bounds how much of a failed stream request's answer is
// read to build its error.
const maxStreamErrorBody = 1 << 20

// After a stream's end marker, what is left of the body (the chunked
// encoding's terminator, which may arrive a moment after the last event)
// is read, up to drainLimit bytes and for at most drainTimeout, so that the
// HTTP/1.1 connection goes back to the pool instead of being closed: a
// router doing thousands of streams would otherwise open as many
// connections.
const (
	drainLimit   = 64 << 10
	drainTimeout = 50 * time.Millisecond
)

// Stream sends a streaming request and returns once the upstream has
// answered with an event stream, or with an error (a *provider.Error).
//
// For chat and completions the body gets "stream": true and the stream ends
// cleanly at "data: [DONE]"; for the Responses API it ends at
// response.completed or response.incomplete, and response.failed is
// delivered and then reported by Err. Config.StreamTimeout bounds the wait
// for the answer's first byte and for each later event; req.Timeout, when
// set, bounds the whole stream. Canceling ctx ends the stream with
// ClassCanceled.
//
// For a text-completion-openai or Responses-bridge deployment, a chat
// request's stream is converted to chat.completion.chunk events.
func (c *Client) Stream(ctx context.Context, req *provider.Request) (provider.Stream, error) {
	p, err := c.prepare(req, true)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	stopTotal := context.CancelFunc(func() {})
	if req.Timeout > 0 {
		sctx, stopTotal = context.WithTimeoutCause(sctx, req.Timeout, &timeoutError{what: "stream not finished", d: req.Timeout})
	}
	idleTO := c.streamTO
	idle := time.AfterFunc(idleTO, func() { cancel(&timeoutError{what: "no stream data", d: idleTO}) })
	abort := func() {
		idle.Stop()
		stopTotal()
		cancel(errStreamClosed)
	}

	hr, err := c.newHTTPRequest(sctx, p, req.Header)
	if err != nil {
		abort()
		return nil, c.wrapErr(err, provider.ClassBadRequest, "openai: build request")
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		err = c.transportErr(sctx, err)
		abort()
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || isJSONContent(resp.Header) {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxStreamErrorBody))
		resp.Body.Close()
		if rerr != nil {
			err = c.transportErr(sctx, rerr)
			abort()
			return nil, err
		}
		abort()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, c.upstreamErr(resp.StatusCode, resp.Header, body)
		}
		// A JSON answer to a stream request: an error some compatible
		// servers send with 200, or a server that ignored "stream".
		if v, err := jsonscan.Find(body, "error", jsonscan.Fast); err == nil && !isNull(v) {
			return nil, c.upstreamErr(resp.StatusCode, resp.Header, body)
		}
		return nil, c.garbage(resp, body, fmt.Errorf("openai: a stream was asked for, the answer is %s", resp.Header.Get("Content-Type")))
	}
	s := &stream{
		c:         c,
		ctx:       sctx,
		cancel:    cancel,
		stopTotal: stopTotal,
		idle:      idle,
		idleTO:    idleTO,
		resp:      resp,
		sse:       wire.NewSSEReader(resp.Body),
		responses: p.ep == provider.EndpointResponses,
	}
	switch p.convert {
	case convResponsesChat:
		return newBridgeStream(s), nil
	case convCompletionChat:
		return newCompletionChatStream(s), nil
	}
	return s, nil
}

// isJSONContent reports whether a response says it is JSON (unlike isJSON,
// an absent Content-Type is not).
func isJSONContent(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// stream is an upstream event stream: chat and completion chunks, or named
// Responses API events. Not safe for concurrent use.
type stream struct {
	c         *Client
	ctx       context.Context
	cancel    context.CancelCauseFunc
	stopTotal context.CancelFunc
	idle      *time.Timer
	idleTO    time.Duration
	resp      *http.Response
	sse       *wire.SSEReader
	responses bool

	ev       provider.Event
	usage    provider.Usage
	err      error
	done     bool  // Next returns false from now on
	terminal bool  // the end event was delivered; the next Next ends
	final    error // the error reported once a terminal event was delivered
}

func (s *stream) Header() http.Header   { return s.resp.Header }
func (s *stream) Event() provider.Event { return s.ev }
func (s *stream) Usage() provider.Usage { return s.usage }
func (s *stream) Err() error            { return s.err }
func (s *stream) deployment() string    { return s.c.cfg.DeploymentID }
func (s *stream) upstreamErr(b []byte) error {
	return s.c.upstreamErr(s.resp.StatusCode, s.resp.Header, b)
}

// Next reads the next event. Empty events are skipped; the terminating
// "[DONE]" is not delivered.
func (s *stream) Next() bool {
	if s.done {
		return false
	}
	if s.terminal {
		s.finish(s.final)
		return false
	}
	s.idle.Reset(s.idleTO)
	for {
		if !s.sse.Next() {
			err := s.sse.Err()
			if err != nil {
				err = s.c.transportErr(s.ctx, err)
			} else {
				err = s.truncated()
			}
			s.end(err)
			return false
		}
		ev := s.sse.Event()
		deliver, clean, err := s.inspect(ev)
		if err != nil {
			s.end(err)
			return false
		}
		if clean {
			s.finish(nil)
			return false
		}
		if deliver {
			s.idle.Stop()
			s.ev = ev
			return true
		}
	}
}

// truncated is the error for a stream that ended without its end marker.
func (s *stream) truncated() error {
	want := "[DONE]"
	if s.responses {
		want = "response.completed"
	}
	return &provider.Error{
		Class:      provider.ClassConnection,
		StatusCode: s.resp.StatusCode,
		Message:    "openai: stream truncated: the upstream ended it before " + want,
		RequestID:  s.resp.Header.Get("X-Request-Id"),
		Header:     s.resp.Header,
		Err:        io.ErrUnexpectedEOF,
		Deployment: s.deployment(),
	}
}

// malformed is the error for an event whose data is not a JSON object.
func (s *stream) malformed(ev provider.Event, err error) error {
	e := &provider.Error{
		Class:      provider.ClassConnection,
		StatusCode: s.resp.StatusCode,
		Message:    "openai: upstream garbage: a stream event is not a JSON object",
		RequestID:  s.resp.Header.Get("X-Request-Id"),
		Header:     s.resp.Header,
		Body:       append([]byte(nil), ev.Data[:min(len(ev.Data), wire.MaxErrorBody)]...),
		Err:        err,
		Deployment: s.deployment(),
	}
	return e
}

// inspect reads what the stream needs from one event: the end marker, an
// error frame, the usage. It reports whether to deliver the event and
// whether the stream ended cleanly.
func (s *stream) inspect(ev provider.Event) (deliver, clean bool, err error) {
	data := ev.Data
	if len(data) == 0 {
		return false, false, nil
	}
	if string(data) == "[DONE]" {
		if s.responses {
			return false, false, s.truncated()
		}
		return false, true, nil
	}
	var usageRaw, errObj, typ, response []byte
	it := jsonscan.Members(data, jsonscan.Fast)
	for it.Next() {
		switch {
		case it.KeyIs("usage"):
			usageRaw = it.Value()
		case it.KeyIs("error"):
			errObj = it.Value()
		case s.responses && it.KeyIs("type"):
			typ = it.Value()
		case s.responses && it.KeyIs("response"):
			response = it.Value()
		}
	}
	if err := it.Err(); err != nil {
		return false, false, s.malformed(ev, err)
	}
	if !s.responses {
		if !isNull(errObj) {
			return false, false, s.upstreamErr(data)
		}
		if !isNull(usageRaw) {
			s.usage = usage.Parse(usageRaw)
		}
		return true, false, nil
	}
	name := ev.Name
	if name == "" && len(typ) > 2 && typ[0] == '"' {
		name = string(typ[1 : len(typ)-1])
	}
	switch name {
	case "error":
		return false, false, s.upstreamErr(data)
	case "response.completed", "response.incomplete":
		if u, err := jsonscan.Find(response, "usage", jsonscan.Fast); err == nil && !isNull(u) {
			s.usage = usage.Parse(u)
		}
		s.terminal = true
	case "response.failed":
		if u, err := jsonscan.Find(response, "usage", jsonscan.Fast); err == nil && !isNull(u) {
			s.usage = usage.Parse(u)
		}
		s.terminal = true
		body := data
		if e, err := jsonscan.Find(response, "error", jsonscan.Fast); err == nil && !isNull(e) {
			body = e
		}
		s.final = s.upstreamErr(body)
	case "":
		if !isNull(errObj) {
			return false, false, s.upstreamErr(data)
		}
	}
	return true, false, nil
}

// end finishes the stream with err and releases the connection.
func (s *stream) end(err error) {
	s.done = true
	s.err = err
	s.release()
}

// finish ends a stream whose end marker arrived, with err (nil, or the
// error a response.failed event reported), keeping the connection for
// reuse when the rest of the body comes promptly.
func (s *stream) finish(err error) {
	s.idle.Reset(drainTimeout) // cancels the context if the body never ends
	_, _ = io.CopyN(io.Discard, s.resp.Body, drainLimit)
	s.end(err)
}

func (s *stream) release() {
	s.idle.Stop()
	s.resp.Body.Close()
	s.stopTotal()
	s.cancel(errStreamClosed)
}

// Close ends the stream and releases the connection. Closing a stream
// before its end marker makes Err report ClassCanceled. It may be called
// more than once.
func (s *stream) Close() error {
	if s.done {
		return nil
	}
	if s.terminal { // the end marker was delivered: a clean end
		s.finish(s.final)
		return nil
	}
	s.end(&provider.Error{
		Class: provider.ClassCanceled, Message: "openai: stream closed before its end",
		Err: context.Canceled, Deployment: s.deployment(),
	})
	return nil
}
