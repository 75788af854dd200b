package openai

// The bridge's stream conversion: a stream of Responses API events becomes
// a stream of chat.completion.chunk events (see bridge.go).

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchyard-go/switchyard/provider"
)

// newBridgeStream wraps a stream of Responses API events into a stream of
// chat.completion.chunk events (Name empty, Data a chunk object), as a chat
// caller expects:
//
//   - a first chunk with delta {"role": "assistant", "content": ""};
//   - response.output_text.delta -> delta.content, response.refusal.delta
//     -> delta.refusal, response.reasoning_summary_text.delta and
//     response.reasoning_text.delta -> delta.reasoning_content (separate
//     summary parts are joined with a blank line, as responsesToChat does);
//   - a function_call output item -> delta.tool_calls [{index, id, type,
//     function:{name, arguments: ""}}], its argument deltas ->
//     [{index, function:{arguments}}];
//   - response.completed / response.incomplete -> a chunk with an empty
//     delta and the finish_reason, then, when the response reports usage,
//     a chunk with "choices": [] and "usage".
//
// response.failed and error events end the stream with a *provider.Error
// classified by their code (ClassServer when unknown). An inner stream that
// ends before response.completed yields the inner error, or a
// ClassConnection error: never a silent truncation. Events are read from
// their SSE name, or from their "type" field when the name is absent.
func newBridgeStream(s provider.Stream) provider.Stream {
	return &bridgeStream{in: s}
}

// bridgeStream converts Responses events to chat chunks; see newBridgeStream.
// Not safe for concurrent use, like every provider.Stream.
type bridgeStream struct {
	in provider.Stream

	prefix  []byte // `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":`
	started bool   // the role chunk was sent
	done    bool   // a terminal event was handled or the inner stream ended
	err     error

	tools      []bridgeStreamTool
	reasonKey  string // item and part of the last reasoning delta
	reasonSent bool

	usage provider.Usage

	ev   bridgeEvent
	buf  []byte // chunks produced by the last inner event
	ends []int  // end offsets of those chunks in buf
	next int    // index of the next chunk to deliver
	cur  []byte
}

type bridgeStreamTool struct {
	itemID      string
	outputIndex int
	argsSent    bool
}

// bridgeEvent is the union of the Responses stream events the bridge reads.
type bridgeEvent struct {
	Type         string            `json:"type"`
	Delta        json.RawMessage   `json:"delta"`
	ItemID       string            `json:"item_id"`
	OutputIndex  int               `json:"output_index"`
	SummaryIndex int               `json:"summary_index"`
	ContentIndex int               `json:"content_index"`
	Arguments    string            `json:"arguments"`
	Item         *bridgeOutputItem `json:"item"`
	Response     *bridgeResponse   `json:"response"`
	Code         json.RawMessage   `json:"code"`
	Message      string            `json:"message"`
	Param        json.RawMessage   `json:"param"`
	Error        *bridgeError      `json:"error"`
}

func (s *bridgeStream) Header() http.Header { return s.in.Header() }
func (s *bridgeStream) Close() error        { return s.in.Close() }
func (s *bridgeStream) Err() error          { return s.err }

// Usage returns the usage of response.completed mapped to chat terms, zero
// before it arrives.
func (s *bridgeStream) Usage() provider.Usage { return s.usage }

// Event returns the current chat chunk.
func (s *bridgeStream) Event() provider.Event { return provider.Event{Data: s.cur} }

// Next advances to the next chat chunk, reading as many Responses events as
// it takes to produce one.
func (s *bridgeStream) Next() bool {
	for {
		if s.next < len(s.ends) {
			start := 0
			if s.next > 0 {
				start = s.ends[s.next-1]
			}
			s.cur = s.buf[start:s.ends[s.next]]
			s.next++
			return true
		}
		s.buf, s.ends, s.next, s.cur = s.buf[:0], s.ends[:0], 0, nil
		if s.done {
			return false
		}
		if !s.in.Next() {
			s.done = true
			if err := s.in.Err(); err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) {
					c := provider.ClassOf(err)
					if c == provider.ClassUnknown {
						c = provider.ClassConnection
					}
					err = &provider.Error{Class: c, Message: "openai: responses stream", Err: err}
				}
				s.err = err
			} else {
				s.err = &provider.Error{
					Class:   provider.ClassConnection,
					Message: "openai: responses stream truncated: it ended before response.completed",
				}
			}
			continue
		}
		if err := s.handle(s.in.Event()); err != nil {
			s.done, s.err = true, err
			s.buf, s.ends = s.buf[:0], s.ends[:0]
		}
	}
}

// handle converts one Responses event into zero or more chunks in s.buf.
func (s *bridgeStream) handle(e provider.Event) error {
	delta := s.ev.Delta[:0]
	s.ev = bridgeEvent{Delta: delta}
	if err := json.Unmarshal(e.Data, &s.ev); err != nil {
		return &provider.Error{
			Class: provider.ClassConnection, Message: "openai: responses stream: malformed event " + strconv.Quote(e.Name), Err: err,
		}
	}
	ev := &s.ev
	name := e.Name
	if name == "" {
		name = ev.Type
	}
	switch name {
	case "response.created", "response.in_progress", "response.queued":
		if ev.Response != nil {
			s.setPrefix(ev.Response)
		}
		if name == "response.created" {
			s.start()
		}
	case "response.output_text.delta":
		return s.deltaChunk(`{"content":`, "", ev.Delta, name)
	case "response.refusal.delta":
		return s.deltaChunk(`{"refusal":`, "", ev.Delta, name)
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		idx := ev.SummaryIndex
		if name == "response.reasoning_text.delta" {
			idx = ev.ContentIndex
		}
		key := ev.ItemID + "\x00" + strconv.Itoa(idx)
		sep := ""
		if s.reasonSent && key != s.reasonKey {
			sep = `\n\n`
		}
		s.reasonKey, s.reasonSent = key, true
		return s.deltaChunk(`{"reasoning_content":`, sep, ev.Delta, name)
	case "response.output_item.added", "response.output_item.done":
		if ev.Item == nil || ev.Item.Type != "function_call" {
			return nil
		}
		i, ok := s.tool(ev.Item.ID, ev.OutputIndex)
		if !ok {
			i = s.addTool(ev.Item.ID, ev.OutputIndex)
			s.toolChunk(i, ev.Item.CallID, ev.Item.Name, ev.Item.Arguments, true)
			s.tools[i].argsSent = ev.Item.Arguments != ""
		} else if !s.tools[i].argsSent && ev.Item.Arguments != "" {
			s.toolChunk(i, "", "", ev.Item.Arguments, false)
			s.tools[i].argsSent = true
		}
	case "response.function_call_arguments.delta":
		if len(ev.Delta) == 0 || ev.Delta[0] != '"' {
			return bridgeMalformed(name, "delta is not a string")
		}
		i, ok := s.tool(ev.ItemID, ev.OutputIndex)
		if !ok {
			i = s.addTool(ev.ItemID, ev.OutputIndex)
		}
		s.tools[i].argsSent = true
		s.start()
		s.chunkStart()
		s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
		s.buf = strconv.AppendInt(s.buf, int64(i), 10)
		s.buf = append(s.buf, `,"function":{"arguments":`...)
		s.buf = append(s.buf, ev.Delta...)
		s.buf = append(s.buf, `}}]}`...)
		s.chunkEnd("null")
	case "response.function_call_arguments.done":
		if i, ok := s.tool(ev.ItemID, ev.OutputIndex); ok && !s.tools[i].argsSent && ev.Arguments != "" {
			s.toolChunk(i, "", "", ev.Arguments, false)
			s.tools[i].argsSent = true
		}
	case "response.completed", "response.incomplete":
		r := ev.Response
		if r == nil {
			r = &bridgeResponse{}
		}
		s.setPrefix(r)
		status := r.Status
		if name == "response.incomplete" {
			status = "incomplete"
		}
		s.start()
		s.chunkStart()
		s.buf = append(s.buf, `{}`...)
		s.chunkEnd(strconv.Quote(bridgeFinishReason(status, r.IncompleteDetails, len(s.tools) > 0)))
		if r.Usage != nil {
			s.usage = bridgeUsage(r.Usage)
			u, err := bridgeMarshal(bridgeChatUsageOf(r.Usage))
			if err != nil {
				return &provider.Error{Class: provider.ClassConnection, Message: "openai: responses stream: usage", Err: err}
			}
			s.buf = append(s.buf, s.prefix...)
			s.buf = append(s.buf, `[],"usage":`...)
			s.buf = append(s.buf, u...)
			s.buf = append(s.buf, '}')
			s.ends = append(s.ends, len(s.buf))
		}
		s.done = true
	case "response.failed":
		var e *bridgeError
		if ev.Response != nil {
			e = ev.Response.Error
		}
		return bridgeUpstreamError(e, "response failed")
	case "error":
		e := ev.Error
		if e == nil {
			e = &bridgeError{Code: ev.Code, Message: ev.Message, Param: ev.Param}
		}
		return bridgeUpstreamError(e, "error event")
	default:
		// A chat-style {"error": {...}} frame without a name or type.
		if name == "" && ev.Error != nil {
			return bridgeUpstreamError(ev.Error, "error event")
		}
	}
	return nil
}

// setPrefix fixes the id, created and model of the chunks from r.
func (s *bridgeStream) setPrefix(r *bridgeResponse) {
	if s.prefix != nil && r.ID == "" {
		return
	}
	id, _ := bridgeMarshal(r.ID)
	model, _ := bridgeMarshal(r.Model)
	p := make([]byte, 0, 96+len(id)+len(model))
	p = append(p, `{"id":`...)
	p = append(p, id...)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, bridgeUnix(r.CreatedAt), 10)
	p = append(p, `,"model":`...)
	p = append(p, model...)
	p = append(p, `,"choices":`...)
	s.prefix = p
}

// start emits the role chunk once, before any other chunk.
func (s *bridgeStream) start() {
	if s.started {
		return
	}
	s.started = true
	s.chunkStart()
	s.buf = append(s.buf, `{"role":"assistant","content":""}`...)
	s.chunkEnd("null")
}

// chunkStart opens a chunk up to its delta value; chunkEnd closes it with
// the given finish_reason (a JSON value).
func (s *bridgeStream) chunkStart() {
	if s.prefix == nil {
		s.setPrefix(&bridgeResponse{})
	}
	s.buf = append(s.buf, s.prefix...)
	s.buf = append(s.buf, `[{"index":0,"delta":`...)
}

func (s *bridgeStream) chunkEnd(finish string) {
	s.buf = append(s.buf, `,"finish_reason":`...)
	s.buf = append(s.buf, finish...)
	s.buf = append(s.buf, `}]}`...)
	s.ends = append(s.ends, len(s.buf))
}

// deltaChunk emits a chunk whose delta is open + the JSON string raw with
// sep (already JSON-escaped) prepended to its text.
func (s *bridgeStream) deltaChunk(open, sep string, raw json.RawMessage, name string) error {
	if len(raw) < 2 || raw[0] != '"' {
		return bridgeMalformed(name, "delta is not a string")
	}
	s.start()
	s.chunkStart()
	s.buf = append(s.buf, open...)
	s.buf = append(s.buf, '"')
	s.buf = append(s.buf, sep...)
	s.buf = append(s.buf, raw[1:]...)
	s.buf = append(s.buf, '}')
	s.chunkEnd("null")
	return nil
}

// toolChunk emits a tool call delta for tool i; the first one carries the
// id, type and name.
func (s *bridgeStream) toolChunk(i int, callID, name, args string, first bool) {
	s.start()
	s.chunkStart()
	s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(i), 10)
	if first {
		s.buf = append(s.buf, `,"id":`...)
		s.buf = append(s.buf, bridgeMustMarshal(callID)...)
		s.buf = append(s.buf, `,"type":"function","function":{"name":`...)
		s.buf = append(s.buf, bridgeMustMarshal(name)...)
		s.buf = append(s.buf, ',')
	} else {
		s.buf = append(s.buf, `,"function":{`...)
	}
	s.buf = append(s.buf, `"arguments":`...)
	s.buf = append(s.buf, bridgeMustMarshal(args)...)
	s.buf = append(s.buf, `}}]}`...)
	s.chunkEnd("null")
}

// tool finds the tool call of an output item, by item id when known, else
// by output index.
func (s *bridgeStream) tool(itemID string, outputIndex int) (int, bool) {
	for i, t := range s.tools {
		if itemID != "" && t.itemID != "" {
			if t.itemID == itemID {
				return i, true
			}
			continue
		}
		if t.outputIndex == outputIndex {
			return i, true
		}
	}
	return 0, false
}

func (s *bridgeStream) addTool(itemID string, outputIndex int) int {
	s.tools = append(s.tools, bridgeStreamTool{itemID: itemID, outputIndex: outputIndex})
	return len(s.tools) - 1
}

func bridgeMalformed(event, what string) error {
	return &provider.Error{
		Class:   provider.ClassConnection,
		Message: "openai: responses stream: malformed event " + strconv.Quote(event) + ": " + what,
	}
}
