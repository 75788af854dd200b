package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// TestOneClassifier checks that an error code reads the same whichever way
// it reaches the client: in the body of a 200 answer, in a chat stream's
// error frame, in a failed Responses response (bridged or not, streamed or
// not) and in a Responses error event. They all go through wire.Classify;
// before, the Responses bridge had a classifier of its own that disagreed
// with the HTTP one (bridgeClassify).
func TestOneClassifier(t *testing.T) {
	tests := []struct {
		typ, code string
		want      provider.Class
	}{
		{"requests", "rate_limit_exceeded", provider.ClassRateLimited},
		{"tokens", "", provider.ClassRateLimited},
		{"insufficient_quota", "insufficient_quota", provider.ClassQuotaExhausted},
		{"", "billing_hard_limit_reached", provider.ClassQuotaExhausted},
		{"invalid_request_error", "context_length_exceeded", provider.ClassContextWindow},
		{"", "string_above_max_length", provider.ClassContextWindow},
		{"", "content_filter", provider.ClassContentPolicy},
		{"invalid_request_error", "content_policy_violation", provider.ClassContentPolicy},
		{"", "image_content_policy_violation", provider.ClassContentPolicy},
		{"invalid_request_error", "invalid_api_key", provider.ClassAuth},
		{"permission_denied", "", provider.ClassAuth},
		{"invalid_request_error", "model_not_found", provider.ClassNotFound},
		{"", "vector_store_timeout", provider.ClassTimeout},
		{"server_error", "server_error", provider.ClassServer},
		{"", "invalid_prompt", provider.ClassBadRequest},
		{"invalid_request_error", "", provider.ClassBadRequest},
		{"", "429", provider.ClassRateLimited},
		{"", "something_new", provider.ClassServer},
		{"", "", provider.ClassServer},
	}
	for _, tt := range tests {
		name := tt.code + "/" + tt.typ
		obj := fmt.Sprintf(`{"message":"failed","type":%q,"code":%q,"param":null}`, tt.typ, tt.code)
		paths := map[string]error{}

		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			answer(w, 200, `{"error":`+obj+`}`)
		})
		_, paths["chat 200 body"] = up.client(t, Config{Model: "gpt-4o"}).Do(context.Background(), chatReq(false))
		_, paths["bridged 200 failed response"] = up.client(t, Config{Model: "openai/responses/gpt-4o"}).Do(context.Background(), chatReq(false))

		up = newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w, chunk("a"), `data: {"error":`+obj+"}\n\n")
		})
		paths["chat stream error frame"] = streamErr(t, up.client(t, Config{Model: "gpt-4o"}))

		failed := `{"type":"response.failed","response":{"id":"r","status":"failed","error":` + obj + `}}`
		up = newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w, "event: response.failed\ndata: "+failed+"\n\n")
		})
		paths["responses stream failed"] = streamErr(t, up.client(t, Config{Model: "gpt-4o"}), provider.EndpointResponses)
		paths["bridged stream failed"] = streamErr(t, up.client(t, Config{Model: "openai/responses/gpt-4o"}))

		event := fmt.Sprintf(`{"type":"error","code":%q,"message":"failed","param":null}`, tt.code)
		if tt.code == "" {
			event = `{"type":"error","error":` + obj + `}`
		}
		up = newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w, "event: error\ndata: "+event+"\n\n")
		})
		paths["bridged stream error event"] = streamErr(t, up.client(t, Config{Model: "openai/responses/gpt-4o"}))

		_, _, paths["bridge failed response"] = responsesToChat([]byte(`{"id":"r","status":"failed","error":` + obj + `}`))
		s := newBridgeStream(&bridgeFakeStream{events: []provider.Event{{Name: "response.failed", Data: []byte(failed)}}})
		for s.Next() {
		}
		paths["bridge stream failed"] = s.Err()

		for path, err := range paths {
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Errorf("%s, %s: error %v, want a *provider.Error", name, path, err)
				continue
			}
			if pe.Class != tt.want || pe.Code != tt.code {
				t.Errorf("%s, %s: class %v code %q, want %v (%v)", name, path, pe.Class, pe.Code, tt.want, err)
			}
		}
	}
}

func chatReq(stream bool) *provider.Request {
	return &provider.Request{Endpoint: provider.EndpointChat, Stream: stream,
		Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)}
}

// streamErr reads a stream to its end and returns the error it ended
// with (or the one Stream returned).
func streamErr(t *testing.T, c *Client, ep ...provider.Endpoint) error {
	t.Helper()
	req := chatReq(true)
	if len(ep) > 0 {
		req = &provider.Request{Endpoint: ep[0], Stream: true, Body: []byte(`{"model":"m","input":"hi"}`)}
	}
	s, err := c.Stream(context.Background(), req)
	if err != nil {
		return err
	}
	defer s.Close()
	for s.Next() {
	}
	return s.Err()
}
