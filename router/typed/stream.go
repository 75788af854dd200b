package typed

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// ChatStream opens a streaming chat completion through r: it sends the
// params with "stream": true (keeping any StreamOptions set, such as
// IncludeUsage for a last chunk with the usage). Params that set "stream"
// to anything but true are refused, as [Chat] refuses bad params. Read the
// stream with Next and Text (or Chunk), and Close it when done:
//
//	s, err := typed.ChatStream(ctx, r, params)
//	if err != nil { ... }
//	defer s.Close()
//	for s.Next() {
//		fmt.Print(s.Text())
//	}
//	if err := s.Err(); err != nil { ... }
//	answer := s.Completion()
func ChatStream(ctx context.Context, r *router.Router, params openai.ChatCompletionNewParams, opts ...router.CallOption) (*ChatStreamResult, error) {
	pr, err := jsonRequest("chat stream", provider.EndpointChat, params, params.Model, streamForced)
	if err != nil {
		return nil, err
	}
	s, err := r.Stream(ctx, pr, opts...)
	if err != nil {
		return nil, err
	}
	return &ChatStreamResult{StreamResult: s}, nil
}

// ChatStreamResult is a streaming chat completion: a [router.StreamResult]
// whose events are decoded, once each, as chat completion chunks and
// accumulated into the whole answer. It is not safe for concurrent use.
type ChatStreamResult struct {
	*router.StreamResult

	chunk    openai.ChatCompletionChunk
	chunkErr error // the current event's decode error
	err      error // the first chunk that did not decode or accumulate
	acc      openai.ChatCompletionAccumulator
}

// Next advances to the next chunk, reporting whether there is one. It
// decodes the chunk and adds it to Completion.
func (s *ChatStreamResult) Next() bool {
	if !s.StreamResult.Next() {
		return false
	}
	s.chunk = openai.ChatCompletionChunk{}
	if err := s.chunk.UnmarshalJSON(s.Event().Data); err != nil {
		s.chunkErr = fmt.Errorf("typed: chat stream: decode chunk from %s: %w", s.source(), err)
		s.keep(s.chunkErr)
		return true
	}
	s.chunkErr = nil
	if !s.acc.AddChunk(s.chunk) {
		s.keep(fmt.Errorf("typed: chat stream: chunk %s from %s does not fit the answer so far (choice or tool call index out of range); Completion leaves it out", s.chunk.ID, s.source()))
	}
	return true
}

// Chunk returns the current chunk, or the error if it did not decode. The
// chunk is valid until the next call to Next.
func (s *ChatStreamResult) Chunk() (*openai.ChatCompletionChunk, error) {
	if s.chunkErr != nil {
		return nil, s.chunkErr
	}
	return &s.chunk, nil
}

// Text returns the current chunk's text: its first choice's content
// delta, "" when it has none (the role chunk, a tool-call or finish chunk,
// the usage chunk, or a chunk that did not decode).
func (s *ChatStreamResult) Text() string {
	if s.chunkErr != nil || len(s.chunk.Choices) == 0 {
		return ""
	}
	return s.chunk.Choices[0].Delta.Content
}

// Completion returns the answer accumulated from every chunk read so far:
// content, refusal and tool calls of each choice, the finish reasons, and
// the usage when the request set StreamOptions.IncludeUsage. It is the
// whole answer once Next has returned false with Err nil; after an early
// Close it holds what was read. RawJSON is empty (no single body carried
// it). The value is updated in place by Next; copy it to keep it apart.
func (s *ChatStreamResult) Completion() *openai.ChatCompletion {
	return &s.acc.ChatCompletion
}

// Err returns the error that ended the stream (see
// [router.StreamResult.Err]), or
// else the first chunk that did not decode or could not be accumulated:
// the stream went on past it, but Completion is missing it.
func (s *ChatStreamResult) Err() error {
	if err := s.StreamResult.Err(); err != nil {
		return err
	}
	return s.err
}

func (s *ChatStreamResult) keep(err error) {
	if s.err == nil {
		s.err = err
	}
}

// source names where the stream's events come from, for errors.
func (s *ChatStreamResult) source() string {
	if s.CacheHit {
		return "the response cache"
	}
	return s.Deployment
}
