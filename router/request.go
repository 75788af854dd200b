package router

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/switchyard-go/switchyard/internal/httphdr"
	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/provider"
)

// checkRequest finds the caller's mistakes in req before any deployment is
// picked, so that they cost no upstream call and no deployment's health: a
// nil request, no endpoint, no model, a JSON endpoint without a JSON object
// body, a multipart endpoint without its form, a stream asked of an
// endpoint that cannot stream.
func checkRequest(req *provider.Request, stream bool) *RequestError {
	switch {
	case req == nil:
		return requestErr("request", "nil request", nil)
	case req.Endpoint == provider.EndpointUnknown || req.Endpoint.Path() == "":
		return requestErr("endpoint", "unknown endpoint: set Request.Endpoint (provider.EndpointChat, ...)", nil)
	case req.Model == "":
		return requestErr("model", "empty: set Request.Model to a model group or alias", nil)
	case stream && req.Endpoint == provider.EndpointEmbeddings:
		return requestErr("stream", "embeddings cannot be streamed", nil)
	}
	if req.Endpoint == provider.EndpointTranscriptions {
		if req.Form == nil {
			return requestErr("form", "a transcription needs Request.Form with the audio file", nil)
		}
		return nil
	}
	body := bytes.TrimLeft(req.Body, " \t\r\n")
	if len(body) == 0 {
		return requestErr("body", "empty: a "+req.Endpoint.String()+" request needs a JSON object body", nil)
	}
	if body[0] != '{' {
		return requestErr("body", "not a JSON object", nil)
	}
	// Every call takes this path, so the check is jsonscan's Fast mode: the
	// whole structure (brackets, commas, literals, numbers), with strings
	// found by their closing quote. A string with a bad escape inside is
	// left to the upstream, whose 400 is the caller's error too (never
	// retried, never counted against the deployment). The error names the
	// offset.
	if err := jsonscan.Valid(body, jsonscan.Fast); err != nil {
		return requestErr("body", "malformed JSON", err)
	}
	return nil
}

// checkHeaders refuses a call whose headers (the request's own or a
// WithHeader option's) net/http could not send: every attempt would fail
// as a connection error, and each would count against a deployment.
func checkHeaders(hs ...http.Header) *RequestError {
	for _, h := range hs {
		if len(h) == 0 {
			continue
		}
		if err := httphdr.Check(h); err != nil {
			return headerErr(err)
		}
	}
	return nil
}

// headerErr is kept apart from checkHeaders so that the error's target
// does not escape on the path every call takes.
func headerErr(err error) *RequestError {
	var he *httphdr.Error
	if errors.As(err, &he) {
		return requestErr("header", he.Msg, nil)
	}
	return requestErr("header", err.Error(), nil)
}

// withHeader returns req as it goes upstream for this call: Stream set as
// the call asks, and the call's headers (WithHeader) over the request's.
// req itself is never modified.
func withHeader(req *provider.Request, stream bool, h http.Header) *provider.Request {
	if req.Stream == stream && h == nil {
		return req
	}
	cp := *req
	cp.Stream = stream
	if h != nil {
		merged := req.Header.Clone()
		if merged == nil {
			merged = make(http.Header, len(h))
		}
		for k, v := range h {
			merged[k] = v
		}
		cp.Header = merged
	}
	return &cp
}
