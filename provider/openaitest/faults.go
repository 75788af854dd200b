package openaitest

import (
	"strconv"
	"time"
)

// FaultKind names a failure the fake can inject.
type FaultKind uint8

// The faults. Each answers the way OpenAI (or, on Azure paths, Azure
// OpenAI) does.
const (
	// FaultNone injects nothing; setting it clears its scope's fault.
	FaultNone FaultKind = iota
	// FaultServerError answers Fault.Status (default 500; 502, 503 and
	// 504 are typical) with a server_error body.
	FaultServerError
	// FaultHang never answers: the request ends when the client gives up
	// (its context ends) or the server closes.
	FaultHang
	// FaultInvalidKey answers 401 invalid_api_key.
	FaultInvalidKey
	// FaultRateLimit answers 429 rate_limit_exceeded (type "requests") with
	// retry-after and retry-after-ms from Fault.RetryAfter when positive.
	FaultRateLimit
	// FaultInsufficientQuota answers 429 insufficient_quota, without
	// retry-after: billing exhausted, not temporary.
	FaultInsufficientQuota
	// FaultContextLength answers 400 context_length_exceeded to requests
	// whose prompt estimate exceeds Fault.Window tokens; other requests are
	// served normally and do not use up Fault.Count.
	FaultContextLength
	// FaultContentPolicy answers 400 content_policy_violation (Azure:
	// content_filter with its innererror).
	FaultContentPolicy
	// FaultContentFilter answers 200 with an empty reply and finish_reason
	// "content_filter", as Azure does when it filters the completion
	// (Responses: status "incomplete"; transcriptions: empty text;
	// embeddings and models are served normally).
	FaultContentFilter
	// FaultNotFound answers 404 model_not_found (Azure:
	// DeploymentNotFound).
	FaultNotFound
	// FaultStreamCut sends Fault.AfterChunks SSE data events and then cuts
	// the connection (HTTP/2: resets the stream), without [DONE]. It
	// applies to streaming requests only; others are served normally and
	// do not use up Fault.Count. The cut is net/http's http.ErrAbortHandler
	// panic, which an http.Server recovers from silently; a Handler called
	// directly (with an httptest.ResponseRecorder) lets it through. Server
	// Close cuts hung and sleeping requests the same way.
	FaultStreamCut
	// FaultStreamError sends Fault.AfterChunks SSE data events, then an
	// error event (data: {"error": {... server_error}}) and ends the
	// stream without [DONE]. Streaming requests only, like FaultStreamCut.
	FaultStreamError
	// FaultGarbage answers 200 with a body that is not JSON (an HTML
	// page, as from a misbehaving proxy), for streaming requests too.
	FaultGarbage
	// FaultTruncatedJSON answers 200 with the first half of the real JSON
	// body; a stream gets one event whose JSON is cut in half, then [DONE].
	FaultTruncatedJSON
	// FaultStreamStall sends Fault.AfterChunks SSE data events and then
	// sends nothing more, keeping the connection open, until the client
	// gives up (its stream timeout between events, or its context) or the
	// server closes. Streaming requests only, like FaultStreamCut.
	FaultStreamStall
	// FaultBodyCut answers 200 with a Content-Length promising the whole
	// JSON body (padded by [WithPadding], if given), sends its first half
	// and cuts the connection, like FaultStreamCut. It applies to
	// non-streaming requests only; streams are served normally and do not
	// use up Fault.Count.
	FaultBodyCut
	numFaultKinds
)

var faultNames = [...]string{
	"none", "server_error", "hang", "invalid_key", "rate_limit", "insufficient_quota",
	"context_length", "content_policy", "content_filter", "not_found", "stream_cut",
	"stream_error", "garbage", "truncated_json", "stream_stall", "body_cut",
}

// String returns the kind's snake_case name.
func (k FaultKind) String() string {
	if int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a failure to inject. Its scope is (Key, Endpoint): setting a
// fault replaces the one of the same scope. When several faults match a
// request, the most specific applies: key and endpoint, then key, then
// endpoint, then server-wide.
//
// Faults apply after authentication and the key's limits: a request the
// buckets refuse with 429 does not reach (or use up) a fault, and a
// request that fails by a fault still costs its request and tokens, as a
// failed call at OpenAI does.
type Fault struct {
	// Kind is what to inject.
	Kind FaultKind
	// Key restricts the fault to requests made with this API key; empty
	// means every key.
	Key string
	// Endpoint restricts the fault to one endpoint: "chat",
	// "completions", "embeddings", "responses", "transcriptions" or
	// "models"; empty means every endpoint.
	Endpoint string
	// Count, when positive, makes the fault apply to the next Count
	// matching requests only, after which it clears itself. Zero means
	// until cleared.
	Count int
	// Status is FaultServerError's status code; 0 means 500.
	Status int
	// RetryAfter is FaultRateLimit's retry hint; 0 sends none.
	RetryAfter time.Duration
	// Window is FaultContextLength's context window in tokens.
	Window int
	// AfterChunks is how many SSE data events FaultStreamCut,
	// FaultStreamError and FaultStreamStall send before failing.
	AfterChunks int
}

// faultState is an installed fault. left is guarded by Handler.faultMu.
type faultState struct {
	Fault
	left int // remaining uses when Count > 0
}

func (f *faultState) specificity() int {
	s := 0
	if f.Key != "" {
		s += 2
	}
	if f.Endpoint != "" {
		s++
	}
	return s
}

// SetFault installs f, replacing any fault of the same (Key, Endpoint)
// scope; a FaultNone clears that scope. Safe to call at any time, also
// while requests are in flight.
func (h *Handler) SetFault(f Fault) {
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	kept := h.faults[:0:0]
	for _, old := range h.faults {
		if old.Key != f.Key || old.Endpoint != f.Endpoint {
			kept = append(kept, old)
		}
	}
	if f.Kind != FaultNone && f.Kind < numFaultKinds {
		kept = append(kept, &faultState{Fault: f, left: f.Count})
	}
	h.faults = kept
	h.nfaults.Store(int32(len(kept)))
}

// ClearFaults removes every installed fault.
func (h *Handler) ClearFaults() {
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	h.faults = nil
	h.nfaults.Store(0)
}

// Faults returns the installed faults, with Count holding the uses left
// for counted faults.
func (h *Handler) Faults() []Fault {
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	out := make([]Fault, len(h.faults))
	for i, f := range h.faults {
		out[i] = f.Fault
		if f.Count > 0 {
			out[i].Count = f.left
		}
	}
	return out
}

// takeFault returns the fault that applies to c, using up one of its
// counted uses, or ok false when none applies.
func (h *Handler) takeFault(c *call) (Fault, bool) {
	if h.nfaults.Load() == 0 {
		return Fault{}, false
	}
	h.faultMu.Lock()
	defer h.faultMu.Unlock()
	best := -1
	for i, f := range h.faults {
		if (f.Key != "" && f.Key != c.key) || (f.Endpoint != "" && f.Endpoint != c.ep.String()) {
			continue
		}
		switch f.Kind {
		case FaultStreamCut, FaultStreamError, FaultStreamStall:
			if !c.stream {
				continue
			}
		case FaultBodyCut:
			if c.stream {
				continue
			}
		case FaultContextLength:
			if c.promptTokens <= f.Window {
				continue
			}
		}
		if best < 0 || f.specificity() > h.faults[best].specificity() {
			best = i
		}
	}
	if best < 0 {
		return Fault{}, false
	}
	f := h.faults[best]
	if f.Count > 0 {
		f.left--
		if f.left <= 0 {
			h.faults = append(h.faults[:best:best], h.faults[best+1:]...)
			h.nfaults.Store(int32(len(h.faults)))
		}
	}
	return f.Fault, true
}
