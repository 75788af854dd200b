package openaitest

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// replyFor returns the configured reply, or "echo: " + text.
func (c *call) replyFor(text string) string {
	if r := c.h.cfg.reply; r != "" {
		return r
	}
	return "echo: " + text
}

// continuation returns what is left of reply when the request ends with
// the assistant's partial answer (a continuation, as a router resuming a
// cut stream sends, with or without "prefix": true or
// continue_final_message): the rest of reply after that partial when reply
// begins with it, else the whole reply. A request that does not end with
// an assistant message gets reply.
func continuation(reply string, msgs []chatMessage) string {
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "assistant" {
		return reply
	}
	if rest, ok := strings.CutPrefix(reply, textOf(msgs[len(msgs)-1].Content)); ok {
		return rest
	}
	return reply
}

// reasoningFor returns the configured reasoning text, or def.
func (c *call) reasoningFor(def string) string {
	if c.h.cfg.reasoning != "" {
		return c.h.cfg.reasoning
	}
	return def
}

// truncate cuts text to maxTokens (by tokensOf), on a rune boundary, and
// reports whether it cut. maxTokens <= 0 means no limit.
func truncate(text string, maxTokens int) (string, bool) {
	if maxTokens <= 0 || tokensOf(text) <= maxTokens {
		return text, false
	}
	n := maxTokens * 4
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n], true
}

// split cuts text into stream pieces: n nearly equal pieces on rune
// boundaries (fewer when the text is shorter), or, for n <= 0, one piece
// per word with its leading space, as token streams look.
func split(text string, n int) []string {
	if text == "" {
		return nil
	}
	var out []string
	if n <= 0 {
		start := 0
		for i := 1; i < len(text); i++ {
			if text[i] == ' ' && text[i-1] != ' ' {
				out = append(out, text[start:i])
				start = i
			}
		}
		return append(out, text[start:])
	}
	size := max((len(text)+n-1)/n, 1)
	for len(text) > 0 {
		k := min(size, len(text))
		for k < len(text) && !utf8.RuneStart(text[k]) {
			k++
		}
		out = append(out, text[:k])
		text = text[k:]
	}
	return out
}

// toolCall is one function call the fake decides to make.
type toolCall struct {
	id, name, args string
}

// pickTools decides which offered function tools to call for a request
// whose last user text is text: none unless tools are offered and
// tool_choice is not "none", and the text says "call tool", tool_choice
// is "required" or names a function, or WithToolCalls is set. A named
// function is called alone; otherwise the first two tools are called in
// parallel when parallel_tool_calls is not false, else the first.
func (c *call) pickTools(text string) []toolCall {
	var names []string
	for _, t := range c.req.Tools {
		if (t.Type == "function" || t.Type == "") && t.name() != "" {
			names = append(names, t.name())
		}
	}
	if len(names) == 0 {
		return nil
	}
	choice := bytes.TrimSpace(c.req.ToolChoice)
	var forced string
	switch {
	case string(choice) == `"none"`:
		return nil
	case len(choice) > 0 && choice[0] == '{':
		var tc struct {
			Name     string `json:"name"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		_ = json.Unmarshal(choice, &tc)
		forced = tc.Name
		if tc.Function != nil && tc.Function.Name != "" {
			forced = tc.Function.Name
		}
	}
	args, _ := json.Marshal(map[string]string{"text": text})
	if forced != "" {
		return []toolCall{{id: c.id("call_") + "_0", name: forced, args: string(args)}}
	}
	if !c.h.cfg.toolCalls && string(choice) != `"required"` && !strings.Contains(strings.ToLower(text), "call tool") {
		return nil
	}
	n := 1
	if len(names) >= 2 && (c.req.ParallelToolCalls == nil || *c.req.ParallelToolCalls) {
		n = 2
	}
	calls := make([]toolCall, n)
	for i := range calls {
		calls[i] = toolCall{id: c.id("call_") + "_" + string(rune('0'+i)), name: names[i], args: string(args)}
	}
	return calls
}
