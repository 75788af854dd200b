package typed_test

import (
	"context"
	"fmt"
	"log"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

// newExampleRouter puts two API keys of a fake OpenAI upstream behind the
// model name "gpt-4o-mini".
func newExampleRouter(upstream *openaitest.Server) *router.Router {
	r, err := router.New(router.Config{Deployments: []deployment.Config{
		{ID: "key-1", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-1", BaseURL: upstream.URL},
		{ID: "key-2", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-2", BaseURL: upstream.URL},
	}})
	if err != nil {
		log.Fatal(err)
	}
	return r
}

// Chat takes the OpenAI SDK's params and answers with the SDK's
// ChatCompletion, plus the Result saying how the router served it.
func ExampleChat() {
	upstream := openaitest.NewServer() // a fake OpenAI, answering "echo: <prompt>"
	defer upstream.Close()
	r := newExampleRouter(upstream)
	defer r.Close()

	resp, res, err := typed.Chat(context.Background(), r, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Choices[0].Message.Content)
	fmt.Println("model group:", res.ModelGroup, "attempts:", len(res.Attempts), "tokens:", resp.Usage.TotalTokens)
	// Output:
	// echo: hello
	// model group: gpt-4o-mini attempts: 1 tokens: 20
}

// ChatStream streams a chat completion: Text is each chunk's new text,
// and Completion the answer accumulated from the chunks, with the usage
// when the params ask for it.
func ExampleChatStream() {
	upstream := openaitest.NewServer(openaitest.WithStreamTiming(0, 0, 3))
	defer upstream.Close()
	r := newExampleRouter(upstream)
	defer r.Close()

	s, err := typed.ChatStream(context.Background(), r, openai.ChatCompletionNewParams{
		Model:         "gpt-4o-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me a story")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for s.Next() {
		if t := s.Text(); t != "" {
			fmt.Printf("%q\n", t)
		}
	}
	if err := s.Err(); err != nil {
		log.Fatal(err)
	}
	answer := s.Completion()
	fmt.Println("answer:", answer.Choices[0].Message.Content)
	fmt.Println("finish:", answer.Choices[0].FinishReason, "tokens:", answer.Usage.TotalTokens)
	// Output:
	// "echo: t"
	// "ell me "
	// "a story"
	// answer: echo: tell me a story
	// finish: stop tokens: 39
}
