package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// statusClientClosedRequest is the status recorded (in logs and metrics)
// for a request whose client went away before the answer: nginx's 499. The
// client never sees it.
const statusClientClosedRequest = 499

// apiError is one answer in OpenAI's error shape.
type apiError struct {
	status        int
	typ, code     string
	param         string
	message       string
	retryAfter    time.Duration // sent as retry-after (and retry-after-ms) when positive
	class         string        // for metrics: a provider.Class name or a handler reason
	header        http.Header   // upstream headers to pass on, may be nil
	group, deploy string        // for the X-Switchyard-* headers, may be empty
	// routed: the router tried the call, so the answer carries
	// X-Switchyard-Attempted-Retries and -Fallbacks; noRetry: its retries
	// were spent, so it says x-should-retry: false.
	routed             bool
	retries, fallbacks int
	noRetry            bool
}

// errorBody is OpenAI's error body. Param and Code are null when empty.
type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// body returns the JSON error body.
func (e *apiError) body() []byte {
	return marshalText(errorBody{Error: errorFields{
		Message: e.message, Type: e.typ, Param: nullable(e.param), Code: nullable(e.code),
	}})
}

// marshalText encodes v as JSON without escaping <, > and & (messages are
// read by people, not embedded in HTML) and without a trailing newline.
func marshalText(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // cannot happen: only strings
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// badRequest makes a 400 invalid_request_error.
func badRequest(param, code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, code: code, message: msg, class: "bad_request"}
}

// writeError writes e. Upstream headers are passed on as for a success,
// and retry-after is always sent when known.
func (h *Handler) writeError(w http.ResponseWriter, e *apiError) {
	hdr := w.Header()
	if e.header != nil {
		h.copyUpstreamHeaders(hdr, e.header)
		for _, k := range retryHeaders {
			if v, ok := e.header[k]; ok {
				hdr[k] = v
			}
		}
	}
	if e.routed {
		hdr.Set(router.HeaderAttemptedRetries, strconv.Itoa(e.retries))
		hdr.Set(router.HeaderAttemptedFallbacks, strconv.Itoa(e.fallbacks))
	}
	if e.noRetry {
		hdr.Set("X-Should-Retry", "false")
	}
	if e.retryAfter > 0 {
		secs := int64(math.Ceil(e.retryAfter.Seconds()))
		hdr.Set("Retry-After", strconv.FormatInt(secs, 10))
		hdr.Set("Retry-After-Ms", strconv.FormatInt(e.retryAfter.Milliseconds(), 10))
	}
	if e.group != "" {
		hdr.Set(router.HeaderModelGroup, e.group)
	}
	if e.deploy != "" {
		hdr.Set(router.HeaderDeployment, e.deploy)
	}
	if e.status == http.StatusUnauthorized {
		hdr.Set("Www-Authenticate", `Bearer realm="switchyard"`)
	}
	body := e.body()
	hdr["Content-Type"] = jsonContentType
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Del("Content-Encoding")
	if e.status == statusClientClosedRequest {
		return // nobody is listening
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// retryHeaders are the upstream headers always passed on with an error.
var retryHeaders = []string{"Retry-After", "Retry-After-Ms", "X-Should-Retry"}

// routeError turns an error from Router.Do or Router.Stream into an
// answer, telling the client what the router already did (see
// routerAdvice).
func (h *Handler) routeError(err error, model string) *apiError {
	e := h.causeError(err, model)
	var re *router.Error
	if errors.As(err, &re) {
		routerAdvice(e, re)
	}
	return e
}

// routerAdvice tells the client of an answer e what the router did for
// the call re, so that it does not retry what was retried already: the
// X-Switchyard-Attempted-* headers, x-should-retry: false when the
// router's retries were spent (or its retry budget refused one) and the
// status is one an SDK would retry, and retry-after when a deployment is
// back at a known time. Caller mistakes (400, and calls refused before
// any deployment was tried) keep their shape.
func routerAdvice(e *apiError, re *router.Error) {
	if e.status == http.StatusBadRequest || e.status == statusClientClosedRequest ||
		len(re.Attempts) == 0 && len(re.Unavailable) == 0 {
		return
	}
	e.routed, e.retries, e.fallbacks = true, re.Retries, re.Fallbacks
	if re.RetriesSpent && sdkRetries(e.status) {
		e.noRetry = true
		if e.retryAfter <= 0 && re.RetryIn > 0 {
			e.retryAfter = re.RetryIn
		}
	}
	if re.BudgetRefused {
		e.class = "retry_budget"
		e.message += " (not retried: the router's retry budget is spent)"
	}
}

// sdkRetries reports whether the official OpenAI SDKs retry an answer with
// this status on their own: 408, 409, 429 and 5xx.
func sdkRetries(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// causeError is the answer for the cause that ended routing.
func (h *Handler) causeError(err error, model string) *apiError {
	cause := err
	var re *router.Error
	if errors.As(err, &re) && re.Err != nil {
		cause = re.Err
	}
	var (
		pe  *provider.Error
		nde *router.NoDeploymentError
	)
	switch {
	case errors.As(cause, &pe):
		e := upstreamError(pe)
		if re != nil && len(re.Attempts) > 0 {
			e.group = re.Attempts[len(re.Attempts)-1].ModelGroup
		}
		return e
	case errors.As(cause, &nde):
		return noDeploymentError(nde)
	case errors.Is(cause, router.ErrUnknownModel):
		return h.unknownModel(model)
	case errors.Is(cause, router.ErrClosed):
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "shutting_down",
			message: "the router is shutting down", class: "closed"}
	case errors.Is(cause, context.Canceled):
		return &apiError{status: statusClientClosedRequest, typ: "invalid_request_error", code: "canceled",
			message: "the request was canceled", class: provider.ClassCanceled.String()}
	case errors.Is(cause, context.DeadlineExceeded):
		return &apiError{status: http.StatusGatewayTimeout, typ: "timeout", code: "timeout",
			message: "the request timed out", class: provider.ClassTimeout.String()}
	}
	return &apiError{status: http.StatusInternalServerError, typ: "server_error",
		message: strings.TrimPrefix(err.Error(), "router: "), class: provider.ClassUnknown.String()}
}

// upstreamError answers with the upstream's status, type, code and
// message, so the client sees what OpenAI (or Azure) said.
func upstreamError(pe *provider.Error) *apiError {
	e := &apiError{
		status: pe.StatusCode, typ: pe.Type, code: pe.Code, param: pe.Param, message: pe.Message,
		retryAfter: pe.RetryAfter, class: pe.Class.String(), header: pe.Header, deploy: pe.Deployment,
	}
	if e.status < 400 || e.status > 599 {
		e.status = classStatus(pe.Class)
	}
	if e.typ == "" {
		e.typ = classType(pe.Class)
	}
	if e.message == "" {
		e.message = strings.TrimPrefix(pe.Error(), "provider: ")
	}
	if pe.Class == provider.ClassCanceled {
		e.status = statusClientClosedRequest
	}
	return e
}

// classStatus is the status for an upstream failure that had none (or an
// odd one): a timeout, a connection failure, a garbled answer.
func classStatus(c provider.Class) int {
	switch c {
	case provider.ClassRateLimited, provider.ClassQuotaExhausted:
		return http.StatusTooManyRequests
	case provider.ClassContextWindow, provider.ClassContentPolicy, provider.ClassBadRequest:
		return http.StatusBadRequest
	case provider.ClassAuth:
		return http.StatusUnauthorized
	case provider.ClassNotFound:
		return http.StatusNotFound
	case provider.ClassTimeout:
		return http.StatusGatewayTimeout
	case provider.ClassConflict:
		return http.StatusConflict
	case provider.ClassCanceled:
		return statusClientClosedRequest
	}
	return http.StatusBadGateway // server and connection errors, unknown
}

// classType is OpenAI's error type for a class, for upstream errors that
// named none.
func classType(c provider.Class) string {
	switch c {
	case provider.ClassRateLimited:
		return "requests"
	case provider.ClassQuotaExhausted:
		return "insufficient_quota"
	case provider.ClassContextWindow, provider.ClassContentPolicy, provider.ClassBadRequest, provider.ClassNotFound, provider.ClassCanceled:
		return "invalid_request_error"
	case provider.ClassAuth:
		return "authentication_error"
	case provider.ClassTimeout:
		return "timeout"
	}
	return "server_error"
}

// noDeploymentError answers when a model group had no deployment to try:
// 429 with retry-after when they are cooling down or at their limits, 400
// when the prompt fits none of them or no deployment carries the
// request's tags, 503 when the group has no deployments.
func noDeploymentError(nde *router.NoDeploymentError) *apiError {
	msg := strings.TrimPrefix(nde.Error(), "router: ")
	e := &apiError{message: msg, group: nde.ModelGroup, class: "no_deployment"}
	limited := 0
	for _, r := range []deployment.Reason{
		deployment.ReasonCooldown, deployment.ReasonBreakerOpen, deployment.ReasonExhausted,
		deployment.ReasonRPM, deployment.ReasonTPM, deployment.ReasonParallel,
	} {
		limited += nde.Reasons[r]
	}
	switch {
	case nde.Deployments == 0 && len(nde.Tags) > 0:
		e.status, e.typ, e.code, e.param = http.StatusBadRequest, "invalid_request_error", "no_deployment_for_tags", "metadata.tags"
	case nde.Deployments == 0:
		e.status, e.typ, e.code = http.StatusServiceUnavailable, "server_error", "no_deployments"
	case nde.Reasons[deployment.ReasonContextWindow] == nde.Deployments:
		e.status, e.typ, e.code, e.param = http.StatusBadRequest, "invalid_request_error", "context_length_exceeded", "messages"
		e.class = provider.ClassContextWindow.String()
	case limited > 0:
		e.status, e.typ, e.code = http.StatusTooManyRequests, "requests", "no_deployment_available"
		if nde.AuthFailed() {
			// Out after 401/403s: the gateway's upstream key is at
			// fault, and the message says which and until when.
			e.code = "deployment_authentication_failed"
		}
		if nde.AllCoolingDown() {
			e.class = "all_cooling_down"
		}
		e.retryAfter = nde.RetryIn
		if e.retryAfter <= 0 && nde.AllCoolingDown() {
			e.retryAfter = time.Second
		}
	default:
		e.status, e.typ, e.code = http.StatusServiceUnavailable, "server_error", "no_deployment_available"
		e.retryAfter = nde.RetryIn
	}
	return e
}

// unknownModel answers 404 naming the model and the valid names.
func (h *Handler) unknownModel(model string) *apiError {
	names := h.modelNames()
	var b strings.Builder
	b.WriteString("The model ")
	b.WriteString(strconv.Quote(clip(model, maxEchoedModel)))
	b.WriteString(" does not exist. Valid model names: ")
	if len(names) == 0 {
		b.WriteString("(none)")
	}
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model",
		code: "model_not_found", message: b.String(), class: "unknown_model"}
}
