package tokens_test

import (
	"fmt"

	"github.com/switchyard-go/switchyard/provider/tokens"
)

func ExampleCount() {
	fmt.Println(tokens.EncodingFor("openai/gpt-4o"), tokens.Count("gpt-4o", "tiktoken is great!"))
	fmt.Println(tokens.EncodingFor("azure/gpt-35-turbo"), tokens.Count("gpt-3.5-turbo", "tiktoken is great!"))
	// Output:
	// o200k_base 6
	// cl100k_base 6
}

func ExampleCountChatBody() {
	body := []byte(`{
		"model": "gpt-4o",
		"messages": [
			{"role": "system", "content": "You are terse."},
			{"role": "user", "content": [
				{"type": "text", "text": "What is in this picture?"},
				{"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}
			]}
		]
	}`)
	n, err := tokens.CountChatBody("", body)
	fmt.Println(n, err)

	_, err = tokens.CountChatBody("gpt-4o", []byte(`{"messages": [{"role": "user", "content": 42}]}`))
	fmt.Println(err)
	// Output:
	// 106 <nil>
	// tokens: body: messages[0].content: want a string, an array of parts or null
}
