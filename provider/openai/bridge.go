package openai

// The chat-to-Responses bridge (LiteLLM's "openai/responses/<model>"): a
// caller speaks chat completions, the upstream is sent POST /v1/responses,
// and the answer (or the event stream) is turned back into chat-completion
// shape. It is three conversions, one file each: bridge_request.go (with
// bridge_messages.go for the messages) turns a chat request into a
// Responses request, bridge_response.go a Responses response into a chat
// completion, bridge_stream.go a Responses event stream into chat chunks.
// This file holds what they share. Every unexported name of the bridge
// starts with "bridge" so that it cannot collide with the rest of the
// package.

import (
	"bytes"
	"encoding/json"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/internal/wire"
)

// bridgeUpstreamError turns a Responses error object into a *provider.Error.
func bridgeUpstreamError(e *bridgeError, fallback string) *provider.Error {
	pe := &provider.Error{Class: provider.ClassServer, Message: "openai: responses bridge: " + fallback}
	if e == nil {
		return pe
	}
	pe.Code = bridgeRawString(e.Code)
	pe.Type = e.Type
	pe.Param = bridgeRawString(e.Param)
	if e.Message != "" {
		pe.Message = e.Message
	}
	// The classifier of HTTP errors and error frames, with no status: the
	// call was accepted and then failed.
	pe.Class = wire.Classify(0, pe.Type, pe.Code, e.Message)
	return pe
}

// bridgeRawString reads a JSON value that should be a string but may be a
// number or null.
func bridgeRawString(raw json.RawMessage) string {
	if len(raw) == 0 || bridgeIsNull(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

func bridgeIsNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// bridgeMarshal encodes v as JSON without HTML escaping and without a
// trailing newline.
func bridgeMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// bridgeMustMarshal encodes values that cannot fail to encode (strings,
// slices of raw JSON already validated).
func bridgeMustMarshal(v any) []byte {
	b, err := bridgeMarshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}
