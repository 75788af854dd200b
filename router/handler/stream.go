package handler

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// serveStream relays a streaming answer as server-sent events, flushing
// each event as it arrives. Chat and legacy completion streams end with
// "data: [DONE]" as OpenAI's do; Responses (and transcription) streams keep
// their event names and end with their last event. A failure after the
// first event ends the stream with an error event, never silently; a
// stream the router resumed after such a failure (router.StreamResume)
// goes on, its seam marked with the comment line
// ": switchyard resumed after N chunks" before the first spliced event. When
// the client goes away, writing fails and the deferred Close ends the
// upstream stream; the request's context, which the router watches, is
// canceled as well. It reports whether the upstream answered with a
// stream (which is closed when serveStream returns).
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, req *provider.Request, opts []router.CallOption) bool {
	s, err := h.r.Stream(r.Context(), req, opts...)
	if err != nil {
		h.fail(w, r, err, req.Model)
		return false
	}
	defer s.Close()

	hdr := w.Header()
	h.copyUpstreamHeaders(hdr, s.Header())
	hdr["Content-Type"] = sseContentType
	hdr["Cache-Control"] = noCache
	hdr["X-Accel-Buffering"] = noBuffering
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	buf := h.getBuf()
	defer h.putBuf(buf)
	for s.Next() {
		buf.Reset()
		if n, ok := s.Seam(); ok {
			// A resumed stream's seam (router.StreamResume): SSE comment
			// lines are skipped by every SSE client, the SDKs' included.
			buf.WriteString(": switchyard resumed after ")
			buf.WriteString(strconv.Itoa(n))
			buf.WriteString(" chunks\n")
		}
		writeEvent(buf, s.Event())
		if _, err := w.Write(buf.Bytes()); err != nil {
			return true
		}
		if err := rc.Flush(); err != nil {
			return true
		}
	}
	buf.Reset()
	if err := s.Err(); err != nil {
		e := h.routeError(err, req.Model)
		if e.status == statusClientClosedRequest {
			return true
		}
		writeErrorEvent(buf, req.Endpoint, e)
	} else if req.Endpoint == provider.EndpointChat || req.Endpoint == provider.EndpointCompletions {
		buf.WriteString("data: [DONE]\n\n")
	}
	if buf.Len() > 0 {
		_, _ = w.Write(buf.Bytes())
	}
	_ = rc.Flush()
	return true
}

// writeEvent appends ev as one server-sent event. Data holding line
// breaks (pretty-printed JSON) is split over several data lines, which a
// client joins back.
func writeEvent(buf *bytes.Buffer, ev provider.Event) {
	if ev.Name != "" {
		buf.WriteString("event: ")
		buf.WriteString(ev.Name)
		buf.WriteByte('\n')
	}
	data := ev.Data
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		buf.WriteString("data: ")
		buf.Write(bytes.TrimSuffix(data[:i], []byte{'\r'}))
		buf.WriteByte('\n')
		data = data[i+1:]
	}
	buf.WriteString("data: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// responsesError is the Responses API's error event.
type responsesError struct {
	Type    string  `json:"type"`
	Code    *string `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

// writeErrorEvent appends the event that ends a stream cut by e: an
// "error" event for Responses streams, a data frame holding OpenAI's error
// body for the others.
func writeErrorEvent(buf *bytes.Buffer, ep provider.Endpoint, e *apiError) {
	if ep == provider.EndpointResponses {
		b := marshalText(responsesError{Type: "error", Code: nullable(e.code), Message: e.message, Param: nullable(e.param)})
		writeEvent(buf, provider.Event{Name: "error", Data: b})
		return
	}
	writeEvent(buf, provider.Event{Data: e.body()})
}
