package openaitest

import (
	"encoding/json"
	"strconv"
)

type completionResponse struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             json.RawMessage    `json:"usage,omitempty"`
}

type completionChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type plainUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// promptText returns the text of a legacy completion prompt: the string,
// the first of a list of strings, or "<n tokens>" for token arrays.
func promptText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0]
	}
	var tokens []json.RawMessage
	if json.Unmarshal(raw, &tokens) == nil {
		return "<" + strconv.Itoa(len(tokens)) + " tokens>"
	}
	return ""
}

func (c *call) completions() {
	text, cut := truncate(c.replyFor(promptText(c.req.Prompt)), c.req.maxOutput())
	finish := finishStop
	if cut {
		finish = finishLength
	}
	if c.fault == FaultContentFilter {
		text, finish = "", finishContentFilter
	}
	u := plainUsage{PromptTokens: c.promptTokens, CompletionTokens: tokensOf(text)}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	usage, _ := json.Marshal(&u)
	resp := completionResponse{ID: c.id("cmpl-"), Object: "text_completion", Created: c.h.now().Unix(), Model: c.chatModel(), SystemFingerprint: SystemFingerprint}
	if !c.stream {
		if !c.sleep(c.h.cfg.latency) {
			return
		}
		resp.Choices = []completionChoice{{Text: text, FinishReason: &finish}}
		resp.Usage = usage
		c.writeOK(&resp)
		return
	}
	s := c.startSSE(false)
	for _, piece := range split(text, c.h.cfg.chunks) {
		resp.Choices = []completionChoice{{Text: piece}}
		if !s.pace() || !s.send("", &resp) {
			return
		}
	}
	resp.Choices = []completionChoice{{FinishReason: &finish}}
	if !s.send("", &resp) {
		return
	}
	if c.req.StreamOptions != nil && c.req.StreamOptions.IncludeUsage {
		resp.Choices = []completionChoice{}
		resp.Usage = usage
		if !s.send("", &resp) {
			return
		}
	}
	s.done()
}
