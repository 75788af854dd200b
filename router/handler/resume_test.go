package handler

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// resumeStack is a gateway whose gpt-4o group has deployment a (tried
// first) cutting its streams after 3 chunks, and b, with mid-stream
// recovery on.
func resumeStack(t *testing.T, on bool) *stack {
	st := newStack(t, stackConfig{config: func(c *router.Config, url string) {
		c.Deployments = []deployment.Config{
			{ID: "a", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-a", BaseURL: url},
			{ID: "b", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-b", BaseURL: url, Order: 1},
		}
		c.Settings.StreamResume.Enabled = on
	}})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
	return st
}

const resumeText = "the quick brown fox jumps over the lazy dog"

func TestSDKChatStreamResumed(t *testing.T) {
	st := resumeStack(t, true)
	c := st.sdkClient("any")
	s := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(resumeText)},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	marked := 0
	for s.Next() {
		chunk := s.Current()
		if !acc.AddChunk(chunk) {
			t.Fatalf("chunk %s does not fit the answer: the resumed stream must read as one", chunk.ID)
		}
		if _, ok := chunk.JSON.ExtraFields["switchyard_resumed"]; ok {
			marked++
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if got := acc.Choices[0].Message.Content; got != "echo: "+resumeText {
		t.Errorf("content %q, want the whole answer", got)
	}
	if marked != 1 || acc.Usage.TotalTokens == 0 {
		t.Errorf("%d chunks marked, usage %+v", marked, acc.Usage)
	}
	if k := st.fake.Stats().Keys; k["sk-a"].Requests != 1 || k["sk-b"].Requests != 1 {
		t.Errorf("upstream requests %+v", k)
	}
}

func TestStreamResumeSeamComment(t *testing.T) {
	for _, on := range []bool{true, false} {
		st := resumeStack(t, on)
		resp := st.post(t, "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"`+resumeText+`"}]}`)
		var comments, data []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, ":"):
				comments = append(comments, line)
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
		resp.Body.Close()
		last := data[len(data)-1]
		if on {
			if len(comments) != 1 || comments[0] != ": switchyard resumed after 3 chunks" || last != "[DONE]" {
				t.Errorf("resumed: comments %q, last %q", comments, last)
			}
			continue
		}
		if len(comments) != 0 || len(data) != 4 || !strings.Contains(last, `"error"`) {
			t.Errorf("off: comments %q, data %q: want the 3 chunks and the error event, as today", comments, data)
		}
	}
}
