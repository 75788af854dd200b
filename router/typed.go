package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard-go/switchyard/provider"
)

// The typed helpers below build a provider.Request from a typed request,
// route it with Do or Stream, and decode the answer. Each also returns the
// *Result, which says which group and deployment served the call and
// carries the raw body and headers.

// Chat sends a chat completion. req.Stream must be false; use ChatStream to
// stream.
func (r *Router) Chat(ctx context.Context, req *provider.ChatRequest, opts ...CallOption) (*provider.ChatResponse, *Result, error) {
	if req == nil {
		return nil, nil, errors.New("router: chat: nil request")
	}
	if req.Stream {
		return nil, nil, errors.New("router: chat: request asks to stream: use ChatStream")
	}
	return doTyped[provider.ChatResponse](ctx, r, "chat", req.ToRequest, withMetadataTags(req.Metadata, opts))
}

// Completions sends a legacy text completion. req.Stream must be false.
func (r *Router) Completions(ctx context.Context, req *provider.CompletionRequest, opts ...CallOption) (*provider.CompletionResponse, *Result, error) {
	if req == nil {
		return nil, nil, errors.New("router: completions: nil request")
	}
	if req.Stream {
		return nil, nil, errors.New("router: completions: request asks to stream: use Stream")
	}
	return doTyped[provider.CompletionResponse](ctx, r, "completions", req.ToRequest, opts)
}

// Embeddings sends an embeddings request.
func (r *Router) Embeddings(ctx context.Context, req *provider.EmbeddingRequest, opts ...CallOption) (*provider.EmbeddingResponse, *Result, error) {
	if req == nil {
		return nil, nil, errors.New("router: embeddings: nil request")
	}
	return doTyped[provider.EmbeddingResponse](ctx, r, "embeddings", req.ToRequest, opts)
}

// Responses sends a Responses API request. req.Stream must be false; use
// Stream with req.ToRequest to stream its named events.
func (r *Router) Responses(ctx context.Context, req *provider.ResponsesRequest, opts ...CallOption) (*provider.ResponsesResponse, *Result, error) {
	if req == nil {
		return nil, nil, errors.New("router: responses: nil request")
	}
	if req.Stream {
		return nil, nil, errors.New("router: responses: request asks to stream: use Stream")
	}
	return doTyped[provider.ResponsesResponse](ctx, r, "responses", req.ToRequest, withMetadataTags(req.Metadata, opts))
}

// Transcription sends an audio transcription. For the plain-text formats
// ("text", "srt", "vtt") the answer's Text is the whole body.
func (r *Router) Transcription(ctx context.Context, req *provider.TranscriptionRequest, opts ...CallOption) (*provider.TranscriptionResponse, *Result, error) {
	if req == nil {
		return nil, nil, errors.New("router: transcription: nil request")
	}
	pr, err := req.ToRequest()
	if err != nil {
		return nil, nil, fmt.Errorf("router: transcription: %w", err)
	}
	res, err := r.Do(ctx, pr, opts...)
	if err != nil {
		return nil, nil, err
	}
	out := new(provider.TranscriptionResponse)
	if body := bytes.TrimSpace(res.Body); len(body) == 0 || body[0] != '{' {
		out.Text = string(res.Body)
		return out, res, nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return nil, res, fmt.Errorf("router: transcription: decode answer from %s: %w", res.Deployment, err)
	}
	return out, res, nil
}

// withMetadataTags puts the request's metadata.tags (LiteLLM's way of
// tagging a request) before opts, so that an explicit WithTags wins.
func withMetadataTags(md map[string]any, opts []CallOption) []CallOption {
	var tags []string
	switch v := md["tags"].(type) {
	case []string:
		tags = v
	case []any:
		for _, t := range v {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	}
	if len(tags) == 0 {
		return opts
	}
	return append([]CallOption{WithTags(tags...)}, opts...)
}

// doTyped builds the request, routes it and decodes the answer into a T.
func doTyped[T any](ctx context.Context, r *Router, what string, build func() (*provider.Request, error), opts []CallOption) (*T, *Result, error) {
	pr, err := build()
	if err != nil {
		return nil, nil, fmt.Errorf("router: %s: %w", what, err)
	}
	res, err := r.Do(ctx, pr, opts...)
	if err != nil {
		return nil, nil, err
	}
	out := new(T)
	if err := json.Unmarshal(res.Body, out); err != nil {
		return nil, res, fmt.Errorf("router: %s: decode answer from %s: %w", what, res.Deployment, err)
	}
	return out, res, nil
}

// ChatStream opens a streaming chat completion (whatever req.Stream says).
// Read it with Next and Chunk, and Close it when done.
func (r *Router) ChatStream(ctx context.Context, req *provider.ChatRequest, opts ...CallOption) (*ChatStream, error) {
	if req == nil {
		return nil, errors.New("router: chat stream: nil request")
	}
	pr, err := req.ToRequest()
	if err != nil {
		return nil, fmt.Errorf("router: chat stream: %w", err)
	}
	s, err := r.Stream(ctx, pr, withMetadataTags(req.Metadata, opts)...)
	if err != nil {
		return nil, err
	}
	return &ChatStream{StreamResult: s}, nil
}

// ChatStream is a streaming chat completion: a StreamResult whose events
// decode as chat completion chunks. It is not safe for concurrent use.
type ChatStream struct {
	*StreamResult
	chunk provider.ChatChunk
}

// Chunk decodes the current event. The chunk is valid until the next call
// to Next or Chunk.
func (s *ChatStream) Chunk() (*provider.ChatChunk, error) {
	s.chunk = provider.ChatChunk{}
	if err := json.Unmarshal(s.Event().Data, &s.chunk); err != nil {
		return nil, fmt.Errorf("router: chat stream: decode chunk from %s: %w", s.Deployment, err)
	}
	return &s.chunk, nil
}
