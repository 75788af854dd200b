package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// A deployment is a Config; the request body passes through with only its
// model replaced.
func Example() {
	upstream := openaitest.NewServer(openaitest.WithReply("Paris."))
	defer upstream.Close()

	client, err := openai.New(openai.Config{
		Model:   "openai/gpt-4o-mini", // sent upstream as "gpt-4o-mini"
		APIKey:  "sk-example",
		BaseURL: upstream.URL, // empty: OPENAI_BASE_URL, else https://api.openai.com/v1
	})
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(context.Background(), &provider.Request{
		Endpoint: provider.EndpointChat,
		Body:     []byte(`{"model":"my-group","messages":[{"role":"user","content":"Capital of France?"}]}`),
	})
	if err != nil {
		panic(err)
	}
	var answer struct {
		Model   string
		Choices []struct{ Message struct{ Content string } }
	}
	_ = json.Unmarshal(resp.Body, &answer)
	fmt.Println(answer.Model, "says", answer.Choices[0].Message.Content)
	fmt.Println("usage reported:", resp.Usage.TotalTokens > 0)
	// Output:
	// gpt-4o-mini says Paris.
	// usage reported: true
}

// Streams deliver the upstream's chunks as they come; Err tells a clean
// end ("[DONE]") from a cut.
func ExampleClient_Stream() {
	upstream := openaitest.NewServer(openaitest.WithReply("one two three"))
	defer upstream.Close()
	client, err := openai.New(openai.Config{Model: "gpt-4o", APIKey: "sk-example", BaseURL: upstream.URL})
	if err != nil {
		panic(err)
	}
	s, err := client.Stream(context.Background(), &provider.Request{
		Endpoint: provider.EndpointChat,
		Stream:   true,
		Body:     []byte(`{"messages":[{"role":"user","content":"count"}],"stream_options":{"include_usage":true}}`),
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	text := ""
	for s.Next() {
		var chunk struct {
			Choices []struct{ Delta struct{ Content string } }
		}
		_ = json.Unmarshal(s.Event().Data, &chunk)
		for _, c := range chunk.Choices {
			text += c.Delta.Content
		}
	}
	fmt.Printf("%q err=%v usage=%v\n", text, s.Err(), s.Usage().CompletionTokens > 0)
	// Output:
	// "one two three" err=<nil> usage=true
}

// Failures are *provider.Error values with a class the router acts on:
// exhausted quota is not retried on this key, but another deployment may
// serve the call.
func ExampleClient_Do_errors() {
	upstream := openaitest.NewServer()
	defer upstream.Close()
	upstream.SetFault(openaitest.Fault{Kind: openaitest.FaultInsufficientQuota})
	client, _ := openai.New(openai.Config{Model: "gpt-4o", APIKey: "sk-example", BaseURL: upstream.URL, DeploymentID: "key-2"})

	_, err := client.Do(context.Background(), &provider.Request{
		Endpoint: provider.EndpointChat,
		Body:     []byte(`{"messages":[{"role":"user","content":"hi"}]}`),
	})
	var pe *provider.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Deployment, pe.StatusCode, pe.Class, errors.Is(err, provider.ErrQuotaExhausted), pe.RetryScope() == provider.RetryElsewhere)
	}
	// Output:
	// key-2 429 quota_exhausted true true
}

// Azure OpenAI: the model names the deployment; BaseURL is the resource
// endpoint and APIVersion is required.
func ExampleConfig_azure() {
	_, err := openai.New(openai.Config{Model: "azure/gpt4o-eastus", BaseURL: "https://my-resource.openai.azure.com"})
	fmt.Println(err)
	c, err := openai.New(openai.Config{
		Model: "azure/gpt4o-eastus", BaseURL: "https://my-resource.openai.azure.com",
		APIVersion: "2024-10-21", APIKey: "azure-key-0123456789abcdef",
	})
	fmt.Println(c.UpstreamModel(), err)
	fmt.Println(c)
	// Output:
	// openai: Config.APIVersion: is required for an azure/ model (Azure's api-version, such as 2024-10-21)
	// gpt4o-eastus <nil>
	// openai.Client(openai.Config{Model: "azure/gpt4o-eastus", APIKey: "...cdef", BaseURL: "https://my-resource.openai.azure.com", APIVersion: "2024-10-21"})
}
