package router_test

import (
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

func TestTypedHelpersOverHTTP(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	tagged := keyDep(srv, "mini", "tagged", "sk-t")
	tagged.Tags = []string{"team-a"}
	plain := keyDep(srv, "mini", "plain", "sk-p")
	plain.Tags = []string{"default"}
	emb := deployment.Config{ID: "emb", ModelName: "embed", Model: "openai/text-embedding-3-small", APIKey: "sk-e", BaseURL: srv.URL}
	r, err := router.New(router.Config{Deployments: []deployment.Config{tagged, plain, emb}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	msgs := []provider.Message{{Role: "user", Content: provider.TextContent("ping")}}

	t.Run("chat", func(t *testing.T) {
		resp, res, err := r.Chat(ctx, &provider.ChatRequest{Model: "mini", Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text() != "echo: ping" || res.Deployment != "plain" {
			t.Errorf("%q from %s", resp.Text(), res.Deployment)
		}
		if _, _, err := r.Chat(ctx, &provider.ChatRequest{Model: "mini", Messages: msgs, Stream: true}); err == nil {
			t.Error("Chat accepted a streaming request")
		}
	})
	t.Run("metadata tags route", func(t *testing.T) {
		for range 5 {
			_, res, err := r.Chat(ctx, &provider.ChatRequest{Model: "mini", Messages: msgs, Metadata: map[string]any{"tags": []any{"team-a"}}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Deployment != "tagged" {
				t.Fatalf("served by %s, want the team-a deployment", res.Deployment)
			}
		}
	})
	t.Run("chat stream", func(t *testing.T) {
		s, err := r.ChatStream(ctx, &provider.ChatRequest{Model: "mini", Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var text strings.Builder
		for s.Next() {
			c, err := s.Chunk()
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				text.WriteString(ch.Delta.Content.String())
			}
		}
		if s.Err() != nil || text.String() != "echo: ping" {
			t.Errorf("streamed %q, err %v", text.String(), s.Err())
		}
	})
	t.Run("embeddings", func(t *testing.T) {
		resp, _, err := r.Embeddings(ctx, &provider.EmbeddingRequest{Model: "embed", Input: []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 {
			t.Fatalf("%d embeddings", len(resp.Data))
		}
		if v, err := resp.Data[1].Vector(); err != nil || len(v) == 0 {
			t.Errorf("vector %d, %v", len(v), err)
		}
	})
	t.Run("completions", func(t *testing.T) {
		resp, _, err := r.Completions(ctx, &provider.CompletionRequest{Model: "mini", Prompt: "say hi"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Text == "" {
			t.Errorf("completion %+v", resp)
		}
	})
	t.Run("responses", func(t *testing.T) {
		resp, _, err := r.Responses(ctx, &provider.ResponsesRequest{Model: "mini", Input: "ping"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.OutputText() != "echo: ping" {
			t.Errorf("output %q", resp.OutputText())
		}
	})
	t.Run("transcription", func(t *testing.T) {
		for _, format := range []string{"", "text"} {
			resp, _, err := r.Transcription(ctx, &provider.TranscriptionRequest{Model: "mini", File: []byte("RIFF...."), FileName: "a.wav", ResponseFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(resp.Text) == "" {
				t.Errorf("format %q: empty text", format)
			}
		}
	})
}
