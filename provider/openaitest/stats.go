package openaitest

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxRecordedBody caps the body kept per recorded request.
const maxRecordedBody = 1 << 20

// Stats counts the traffic a [Handler] has seen since it was created or
// last reset. It is a snapshot; later requests do not change it.
type Stats struct {
	// Requests counts every request received.
	Requests int64
	// RateLimited counts 429 rate_limit_exceeded answers, from the
	// buckets or from FaultRateLimit (not insufficient_quota).
	RateLimited int64
	// InFlight is the number of requests being served now, and
	// MaxInFlight the most served at once.
	InFlight, MaxInFlight int64
	// Endpoints counts requests per endpoint name ("chat", "completions",
	// "embeddings", "responses", "transcriptions", "models", and "unknown"
	// for paths the fake does not serve).
	Endpoints map[string]int64
	// Keys counts requests per API key presented, accepted or not.
	Keys map[string]KeyStats
	// Status counts answers per HTTP status code. Requests that ended
	// without an answer (the client went away, a hang) are not counted.
	Status map[int]int64
}

// KeyStats counts one API key's requests.
type KeyStats struct {
	Requests    int64 // requests made with the key
	RateLimited int64 // 429 rate_limit_exceeded answers to them
}

// RecordedRequest summarises one request the fake received.
type RecordedRequest struct {
	// Time is when the request arrived, by the handler's clock.
	Time time.Time
	// Method, Path and RawQuery are the request line's.
	Method, Path, RawQuery string
	// Endpoint is the endpoint name, as in [Stats.Endpoints].
	Endpoint string
	// Azure reports an Azure OpenAI path; Deployment is its deployment,
	// empty for other paths.
	Azure      bool
	Deployment string
	// Key is the API key presented (Authorization: Bearer, or api-key on
	// Azure paths).
	Key string
	// Model is the body's "model" (a multipart field for
	// transcriptions).
	Model string
	// Stream reports whether a stream was requested.
	Stream bool
	// Header is the request's header.
	Header http.Header
	// Body is the request body, at most its first MiB.
	Body []byte
	// Status is the answer's status code, 0 when none was sent (the client
	// went away first, or a FaultHang).
	Status int
	// ErrorCode is the error code answered (such as
	// "rate_limit_exceeded", "invalid_api_key", "server_error" for 5xx
	// faults), empty on success.
	ErrorCode string
	// Fault is the fault injected into this request, FaultNone if none.
	Fault FaultKind
}

func (rr RecordedRequest) clone() RecordedRequest {
	rr.Header = rr.Header.Clone()
	rr.Body = bytes.Clone(rr.Body)
	return rr
}

// counters are the handler's atomic counters.
type counters struct {
	requests, rateLimited atomic.Int64
	inFlight, maxInFlight atomic.Int64
	endpoints             [numEndpoints]atomic.Int64
	status                [600]atomic.Int64
}

// history is a bounded ring of recent requests. Safe for concurrent use.
type history struct {
	mu   sync.Mutex
	ring []RecordedRequest // guarded by mu; len is the capacity once full
	next int               // guarded by mu: where the next record goes once full
	size int               // immutable capacity; 0 disables recording
}

func (hs *history) add(rr RecordedRequest) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if len(hs.ring) < hs.size {
		hs.ring = append(hs.ring, rr)
		return
	}
	hs.ring[hs.next] = rr
	hs.next = (hs.next + 1) % hs.size
}

func (hs *history) all() []RecordedRequest {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	out := make([]RecordedRequest, 0, len(hs.ring))
	for i := range hs.ring {
		out = append(out, hs.ring[(hs.next+i)%len(hs.ring)].clone())
	}
	return out
}

func (hs *history) reset() {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.ring, hs.next = nil, 0
}

// Stats returns a snapshot of the handler's counters.
func (h *Handler) Stats() Stats {
	s := Stats{
		Requests:    h.ctr.requests.Load(),
		RateLimited: h.ctr.rateLimited.Load(),
		InFlight:    h.ctr.inFlight.Load(),
		MaxInFlight: h.ctr.maxInFlight.Load(),
		Endpoints:   make(map[string]int64),
		Keys:        make(map[string]KeyStats),
		Status:      make(map[int]int64),
	}
	for i := range h.ctr.endpoints {
		if n := h.ctr.endpoints[i].Load(); n > 0 {
			s.Endpoints[endpoint(i).String()] = n
		}
	}
	for code := range h.ctr.status {
		if n := h.ctr.status[code].Load(); n > 0 {
			s.Status[code] = n
		}
	}
	h.keyStates.Range(func(k, v any) bool {
		ks := v.(*keyState)
		if n := ks.requests.Load(); n > 0 {
			s.Keys[k.(string)] = KeyStats{Requests: n, RateLimited: ks.rateLimited.Load()}
		}
		return true
	})
	return s
}

// Requests returns copies of the most recent requests, oldest first (at
// most 1000 unless [WithHistory] says otherwise).
func (h *Handler) Requests() []RecordedRequest { return h.hist.all() }

// LastRequest returns a copy of the most recent request, ok false when
// none was recorded.
func (h *Handler) LastRequest() (rr RecordedRequest, ok bool) {
	h.hist.mu.Lock()
	defer h.hist.mu.Unlock()
	n := len(h.hist.ring)
	if n == 0 {
		return RecordedRequest{}, false
	}
	i := n - 1
	if n == h.hist.size {
		i = (h.hist.next + n - 1) % n
	}
	return h.hist.ring[i].clone(), true
}

// ResetStats zeroes the counters (except InFlight) and forgets the
// recorded requests. Buckets and faults are kept.
func (h *Handler) ResetStats() {
	h.ctr.requests.Store(0)
	h.ctr.rateLimited.Store(0)
	h.ctr.maxInFlight.Store(h.ctr.inFlight.Load())
	for i := range h.ctr.endpoints {
		h.ctr.endpoints[i].Store(0)
	}
	for i := range h.ctr.status {
		h.ctr.status[i].Store(0)
	}
	h.keyStates.Range(func(_, v any) bool {
		ks := v.(*keyState)
		ks.requests.Store(0)
		ks.rateLimited.Store(0)
		return true
	})
	h.hist.reset()
}
