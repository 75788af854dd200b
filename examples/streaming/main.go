// Command streaming streams a chat completion through Switchyard, with no
// API key, and prints the text as it arrives.
//
// It starts a fake OpenAI upstream (package provider/openaitest) and puts
// two of its API keys behind the model name "gpt-4o-mini". The preferred
// key answers 500, so the router retries on the other one before the
// first token reaches the caller. The request is built with the official
// OpenAI Go SDK's types (github.com/openai/openai-go/v3); typed.ChatStream
// (package router/typed) returns a stream whose Text is each chunk's new
// text and whose Completion is the answer accumulated from every chunk,
// with the usage.
//
//	go run ./examples/streaming
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

const story = "Once upon a time a router met two API keys. One was broken, so it asked the other, " +
	"and the story reached the caller a few words at a time."

func main() {
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// A fake upstream that streams the story in 16 chunks, 40ms apart, and
	// a 500 for every call made with the first key.
	upstream := openaitest.NewServer(
		openaitest.WithReply(story),
		openaitest.WithStreamTiming(100*time.Millisecond, 40*time.Millisecond, 16),
	)
	defer upstream.Close()
	upstream.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-broken", Status: 500})

	r, err := router.New(router.Config{Deployments: []deployment.Config{
		// Order 0 is preferred; Order 1 serves when it fails.
		{ID: "key-broken", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-broken", BaseURL: upstream.URL},
		{ID: "key-good", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-good", BaseURL: upstream.URL, Order: 1},
	}})
	if err != nil {
		log.Fatalf("streaming: %v", err)
	}
	defer r.Close()

	s, err := typed.ChatStream(ctx, r, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a short story.")},
		// Ask for a last chunk with the usage.
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	if err != nil {
		log.Fatalf("streaming: %v", err)
	}
	defer s.Close()

	for _, a := range s.Attempts {
		if a.Err != nil {
			fmt.Printf("attempt on %s: %s %d\n", a.Deployment, a.Class, a.StatusCode)
		}
	}
	fmt.Printf("streaming from %s (retries: %d):\n\n", s.Deployment, s.Retries)
	for s.Next() {
		fmt.Print(s.Text())
	}
	fmt.Print("\n\n")
	if err := s.Err(); err != nil {
		log.Fatalf("streaming: %v", err)
	}

	answer := s.Completion()
	fmt.Printf("accumulated answer (%d characters, finish reason %q):\n%s\n\n",
		len(answer.Choices[0].Message.Content), answer.Choices[0].FinishReason, answer.Choices[0].Message.Content)
	fmt.Printf("usage: %d prompt + %d completion = %d tokens\n",
		answer.Usage.PromptTokens, answer.Usage.CompletionTokens, answer.Usage.TotalTokens)
}
