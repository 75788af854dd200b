package handler

import (
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

// Drain starts a graceful shutdown: from now on every API request (and
// the models list) is answered 503 (code shutting_down, retry-after 1 s)
// with "Connection: close", so that a client, or a load balancer, tries
// another replica on a new connection; /health/readiness answers 503 with
// status "draining", so that a load balancer stops sending; liveness and
// /metrics still answer. Requests and streams already in flight go on to
// their end. Drain cannot be undone, and calling it again does nothing.
//
// Call it when the process is told to stop (SIGTERM), wait as long as a
// load balancer needs to notice, then call http.Server.Shutdown with the
// deadline for the calls in flight: Shutdown closes the listener and idle
// connections and waits for active ones, and Drain turns away the
// requests that still arrive on open connections meanwhile.
//
//	h.Drain()
//	time.Sleep(delay) // let the load balancer see /health/readiness fail
//	ctx, cancel := context.WithTimeout(context.Background(), deadline)
//	defer cancel()
//	if srv.Shutdown(ctx) != nil {
//		srv.Close() // cut what is still running at the deadline
//	}
func (h *Handler) Drain() { h.draining.Store(true) }

// Draining reports whether Drain was called.
func (h *Handler) Draining() bool { return h.draining.Load() }

// refuseDraining answers a request that arrives while the handler drains:
// every answer closes its connection; API requests are refused with 503,
// health and metrics requests are let through (it returns false).
func (h *Handler) refuseDraining(w http.ResponseWriter, p string) bool {
	w.Header().Set("Connection", "close")
	switch p {
	case "/health", "/health/liveness", "/health/liveliness", "/health/readiness", "/metrics":
		return false
	}
	h.refuse(w, provider.EndpointUnknown, &apiError{
		status: http.StatusServiceUnavailable, typ: "server_error", code: "shutting_down",
		message: "the gateway is shutting down: send the request again, on a new connection",
		class:   "draining", retryAfter: time.Second,
	})
	return true
}
