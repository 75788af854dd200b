package openaitest

import (
	"bytes"
	"encoding/json"
)

type responseObject struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	CreatedAt          int64           `json:"created_at"`
	Status             string          `json:"status"`
	Error              json.RawMessage `json:"error"`
	IncompleteDetails  json.RawMessage `json:"incomplete_details"`
	Instructions       json.RawMessage `json:"instructions"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Model              string          `json:"model"`
	Output             []outputItem    `json:"output"`
	ParallelToolCalls  bool            `json:"parallel_tool_calls"`
	PreviousResponseID *string         `json:"previous_response_id"`
	Reasoning          reasoningParam  `json:"reasoning"`
	ServiceTier        string          `json:"service_tier"`
	Store              bool            `json:"store"`
	Usage              *responseUsage  `json:"usage"`
}

type outputItem struct {
	ID        string           `json:"id"`
	Type      string           `json:"type"`
	Status    string           `json:"status,omitempty"`
	Role      string           `json:"role,omitempty"`
	Content   *[]outputContent `json:"content,omitempty"`
	Summary   *[]summaryPart   `json:"summary,omitempty"`
	CallID    string           `json:"call_id,omitempty"`
	Name      string           `json:"name,omitempty"`
	Arguments *string          `json:"arguments,omitempty"`
}

type outputContent struct {
	Type        string     `json:"type"`
	Text        string     `json:"text"`
	Annotations []struct{} `json:"annotations"`
}

type summaryPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type responseUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

// responsesText returns the last user text of a Responses API input: the
// string itself, or the last user item's content.
func responsesText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return textOf(raw)
	}
	var items []chatMessage
	if json.Unmarshal(raw, &items) != nil {
		return ""
	}
	return lastUserText(items)
}

// responseAnswer is the complete response and the pieces a stream sends.
type responseAnswer struct {
	resp       responseObject
	reasoning  string // summary text, "" when no summary was asked for
	text       string
	calls      []toolCall
	incomplete bool
}

func (c *call) responseAnswer() responseAnswer {
	text := responsesText(c.req.Input)
	a := responseAnswer{calls: c.pickTools(text)}
	r := &a.resp
	*r = responseObject{
		ID: c.id("resp_"), Object: "response", CreatedAt: c.h.now().Unix(), Status: "completed",
		Error: jsonNull, IncompleteDetails: jsonNull, Instructions: c.req.Instructions,
		MaxOutputTokens: c.req.MaxOutputTokens, Model: c.chatModel(),
		ParallelToolCalls:  c.req.ParallelToolCalls == nil || *c.req.ParallelToolCalls,
		PreviousResponseID: c.req.PreviousResponseID, ServiceTier: "default", Store: true,
	}
	if len(r.Instructions) == 0 {
		r.Instructions = jsonNull
	}
	if c.req.Reasoning != nil {
		r.Reasoning = *c.req.Reasoning
	}
	thinking := c.reasoningFor("Thinking about: " + text)
	summary := []summaryPart{}
	if s := r.Reasoning.Summary; s != nil && *s != "" && *s != "none" {
		a.reasoning = thinking
		summary = append(summary, summaryPart{Type: "summary_text", Text: thinking})
	}
	r.Output = append(r.Output, outputItem{ID: c.id("rs_"), Type: "reasoning", Summary: &summary})
	out := 0
	if len(a.calls) > 0 {
		for _, tc := range a.calls {
			args := tc.args
			r.Output = append(r.Output, outputItem{ID: "fc_" + tc.id[len("call_"):], Type: "function_call", Status: "completed", CallID: tc.id, Name: tc.name, Arguments: &args})
			out += tokensOf(tc.name) + tokensOf(tc.args)
		}
	} else {
		a.text, a.incomplete = truncate(c.replyFor(text), c.req.maxOutput())
		if c.fault == FaultContentFilter {
			a.text, a.incomplete = "", true
		}
		content := []outputContent{{Type: "output_text", Text: a.text, Annotations: []struct{}{}}}
		r.Output = append(r.Output, outputItem{ID: c.id("msg_"), Type: "message", Status: "completed", Role: "assistant", Content: &content})
		out += tokensOf(a.text)
	}
	if a.incomplete {
		r.Status = "incomplete"
		r.IncompleteDetails = json.RawMessage(`{"reason":"max_output_tokens"}`)
		if c.fault == FaultContentFilter {
			r.IncompleteDetails = json.RawMessage(`{"reason":"content_filter"}`)
		}
	}
	reasoningTokens := tokensOf(thinking)
	r.Usage = &responseUsage{InputTokens: c.promptTokens, OutputTokens: out + reasoningTokens}
	r.Usage.OutputTokensDetails.ReasoningTokens = reasoningTokens
	r.Usage.TotalTokens = r.Usage.InputTokens + r.Usage.OutputTokens
	return a
}

func (c *call) responses() {
	a := c.responseAnswer()
	if c.stream {
		c.responsesStream(&a)
		return
	}
	if !c.sleep(c.h.cfg.latency) {
		return
	}
	c.writeOK(&a.resp)
}

// responseEvent is every named event of a responses stream; unused fields
// are omitted.
type responseEvent struct {
	Type           string          `json:"type"`
	SequenceNumber int             `json:"sequence_number"`
	Response       *responseObject `json:"response,omitempty"`
	OutputIndex    *int            `json:"output_index,omitempty"`
	ItemID         string          `json:"item_id,omitempty"`
	ContentIndex   *int            `json:"content_index,omitempty"`
	SummaryIndex   *int            `json:"summary_index,omitempty"`
	Item           *outputItem     `json:"item,omitempty"`
	Part           any             `json:"part,omitempty"`
	Delta          *string         `json:"delta,omitempty"`
	Text           *string         `json:"text,omitempty"`
	Arguments      *string         `json:"arguments,omitempty"`
}

func (c *call) responsesStream(a *responseAnswer) {
	s := c.startSSE(true)
	send := func(ev responseEvent) bool {
		ev.SequenceNumber = s.seq()
		return s.send(ev.Type, &ev)
	}
	zero := 0
	final := a.resp
	pending := final
	pending.Status, pending.Output, pending.Usage = "in_progress", []outputItem{}, nil
	pending.IncompleteDetails = jsonNull
	if !send(responseEvent{Type: "response.created", Response: &pending}) ||
		!send(responseEvent{Type: "response.in_progress", Response: &pending}) {
		return
	}
	for i := range final.Output {
		idx := i
		item := final.Output[i]
		switch item.Type {
		case "reasoning":
			empty := []summaryPart{}
			added := item
			added.Summary = &empty
			if !send(responseEvent{Type: "response.output_item.added", OutputIndex: &idx, Item: &added}) {
				return
			}
			if a.reasoning != "" {
				part := summaryPart{Type: "summary_text"}
				if !send(responseEvent{Type: "response.reasoning_summary_part.added", ItemID: item.ID, OutputIndex: &idx, SummaryIndex: &zero, Part: part}) {
					return
				}
				for _, piece := range split(a.reasoning, c.h.cfg.chunks) {
					if !s.pace() || !send(responseEvent{Type: "response.reasoning_summary_text.delta", ItemID: item.ID, OutputIndex: &idx, SummaryIndex: &zero, Delta: &piece}) {
						return
					}
				}
				part.Text = a.reasoning
				if !send(responseEvent{Type: "response.reasoning_summary_text.done", ItemID: item.ID, OutputIndex: &idx, SummaryIndex: &zero, Text: &a.reasoning}) ||
					!send(responseEvent{Type: "response.reasoning_summary_part.done", ItemID: item.ID, OutputIndex: &idx, SummaryIndex: &zero, Part: part}) {
					return
				}
			}
		case "function_call":
			added := item
			empty := ""
			added.Arguments, added.Status = &empty, "in_progress"
			if !send(responseEvent{Type: "response.output_item.added", OutputIndex: &idx, Item: &added}) {
				return
			}
			if !s.pace() || !send(responseEvent{Type: "response.function_call_arguments.delta", ItemID: item.ID, OutputIndex: &idx, Delta: item.Arguments}) ||
				!send(responseEvent{Type: "response.function_call_arguments.done", ItemID: item.ID, OutputIndex: &idx, Arguments: item.Arguments}) {
				return
			}
		case "message":
			added := item
			empty := []outputContent{}
			added.Content, added.Status = &empty, "in_progress"
			part := outputContent{Type: "output_text", Annotations: []struct{}{}}
			if !send(responseEvent{Type: "response.output_item.added", OutputIndex: &idx, Item: &added}) ||
				!send(responseEvent{Type: "response.content_part.added", ItemID: item.ID, OutputIndex: &idx, ContentIndex: &zero, Part: part}) {
				return
			}
			for _, piece := range split(a.text, c.h.cfg.chunks) {
				if !s.pace() || !send(responseEvent{Type: "response.output_text.delta", ItemID: item.ID, OutputIndex: &idx, ContentIndex: &zero, Delta: &piece}) {
					return
				}
			}
			part.Text = a.text
			if !send(responseEvent{Type: "response.output_text.done", ItemID: item.ID, OutputIndex: &idx, ContentIndex: &zero, Text: &a.text}) ||
				!send(responseEvent{Type: "response.content_part.done", ItemID: item.ID, OutputIndex: &idx, ContentIndex: &zero, Part: part}) {
				return
			}
		}
		if !send(responseEvent{Type: "response.output_item.done", OutputIndex: &idx, Item: &item}) {
			return
		}
	}
	end := "response.completed"
	if final.Status == "incomplete" {
		end = "response.incomplete"
	}
	send(responseEvent{Type: end, Response: &final})
}
