package router

// Mid-stream recovery, the stream's side: what the router watches in the
// events that reach the caller (text delivered, whether a resume is still
// possible), how a continuation's events are rewritten to splice into the
// caller's stream, and the usage of both attempts. resume.go has the
// settings, the continuation request and the resume itself.

import (
	"bytes"
	"strconv"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/tokens"
)

// resumeCall is the per-call resume setting of callOptions.
type resumeCall struct {
	set, on bool // WithStreamResume
	// after is set on the call that resumes a stream: how many events the
	// caller had read (for the hooks).
	after int
}

// resumeWanted reports whether c, a stream call, may be resumed midway:
// recovery is on for it, it is a chat completion, and it asks for one
// choice.
func (c *call) resumeWanted() bool {
	on := c.r.set.StreamResume.Enabled
	if c.opts.resume.set {
		on = c.opts.resume.on
	}
	if !on || c.req.Endpoint != provider.EndpointChat {
		return false
	}
	n, err := jsonscan.Find(c.req.Body, "n", jsonscan.Fast)
	return err == nil && (isNullJSON(n) || string(n) == "1")
}

// resumer is the resume state of a stream that may be resumed. It is made
// only for such streams, so that a stream without recovery costs nothing.
type resumer struct {
	req  *provider.Request // as sent upstream
	opts callOptions
	max  int

	// ok: everything delivered so far can be continued (one choice, text
	// only, not finished).
	ok bool
	// content is the answer's text delivered so far; chunks counts the
	// events delivered.
	content []byte
	chunks  int
	// id, created and model are the raw values of the stream's first
	// chunk that had an id, given to every spliced chunk.
	id, created, model []byte

	tries   int  // resumes attempted
	resumed int  // resumes that opened
	splice  bool // the live attempt is a resume: its events are rewritten
	after   int  // for a live resume, the events read before it
	marked  bool // the live resume's seam is marked
	seam    bool // the current event is the seam
	ev      provider.Event
	buf     []byte
	// attempt is the index in StreamResult.Attempts of the live attempt.
	attempt int
	// broken are the deployments that broke this stream: never resumed on.
	broken []string
	// prev and prevCost are the usage and cost of the attempts ended
	// before the live one; ended reports that the live one has ended too
	// (its resume could not open).
	prev     provider.Usage
	prevCost float64
	ended    bool
}

func newResumer(c *call) *resumer {
	rs := &resumer{req: c.req, opts: c.opts, max: c.r.set.StreamResume.MaxResumes, ok: true, attempt: len(c.attempts) - 1}
	if rs.max == 0 {
		rs.max = DefaultMaxResumes
	}
	return rs
}

// accept takes the next event of the live attempt, reporting whether the
// caller gets it. Events of a resume are rewritten (see rewrite).
func (rs *resumer) accept(ev provider.Event) bool {
	rs.seam = false
	data := ev.Data
	if rs.splice {
		var keep bool
		if data, keep = rs.rewrite(data); !keep {
			return false
		}
		rs.ev = provider.Event{Name: ev.Name, Data: data}
	}
	rs.observe(data)
	rs.chunks++
	return true
}

// observe reads what a resume needs from a delivered chunk: the stream's
// identity, the text, and whether the answer can still be continued.
func (rs *resumer) observe(data []byte) {
	if !rs.ok {
		return
	}
	var choices, id, created, model []byte
	it := jsonscan.Members(data, jsonscan.Fast)
	for it.Next() {
		switch it.KeyString() {
		case "choices":
			choices = it.Value()
		case "id":
			id = it.Value()
		case "created":
			created = it.Value()
		case "model":
			model = it.Value()
		}
	}
	if it.Err() != nil {
		rs.ok = false
		return
	}
	if rs.id == nil && len(id) > 2 && id[0] == '"' {
		rs.id = append([]byte(nil), id...)
		rs.created = append([]byte(nil), created...)
		rs.model = append([]byte(nil), model...)
	}
	if isNullJSON(choices) {
		return
	}
	el := jsonscan.Elements(choices, jsonscan.Fast)
	for el.Next() {
		if !rs.choice(el.Value()) {
			rs.ok = false
			return
		}
	}
	if el.Err() != nil {
		rs.ok = false
	}
}

// choice reads one choice of a chunk, appending its text, and reports
// whether the answer can still be continued after it.
func (rs *resumer) choice(v []byte) bool {
	var delta []byte
	it := jsonscan.Members(v, jsonscan.Fast)
	for it.Next() {
		switch it.KeyString() {
		case "index":
			if string(it.Value()) != "0" {
				return false // n > 1 answered anyway
			}
		case "finish_reason":
			if !isNullJSON(it.Value()) {
				return false
			}
		case "delta":
			delta = it.Value()
		}
	}
	if it.Err() != nil {
		return false
	}
	if isNullJSON(delta) {
		return true
	}
	it = jsonscan.Members(delta, jsonscan.Fast)
	for it.Next() {
		v := it.Value()
		switch it.KeyString() {
		case "content":
			switch {
			case isNullJSON(v):
			case len(v) < 2 || v[0] != '"':
				return false
			case bytes.IndexByte(v, '\\') < 0:
				rs.content = append(rs.content, v[1:len(v)-1]...)
			default:
				s, err := jsonscan.Unquote(v)
				if err != nil {
					return false
				}
				rs.content = append(rs.content, s...)
			}
		case "role":
		default:
			// tool_calls, function_call, reasoning_content, refusal,
			// audio, or what a future API adds: not text to continue.
			if !emptyJSON(v) {
				return false
			}
		}
	}
	return it.Err() == nil
}

// rewrite makes a resume's chunk part of the caller's stream: the first
// chunk's id, created and model; the summed usage in a usage chunk; the
// seam marker on the first chunk delivered. keep is false for a chunk the
// caller must not get again: the role chunk, or one without delta or
// usage.
func (rs *resumer) rewrite(data []byte) (out []byte, keep bool) {
	var choices, u []byte
	it := jsonscan.Members(data, jsonscan.Fast)
	for it.Next() {
		switch it.KeyString() {
		case "choices":
			choices = it.Value()
		case "usage":
			u = it.Value()
		}
	}
	if it.Err() != nil {
		return data, true // the stream reports garbage itself
	}
	if isNullJSON(u) && !carriesDelta(choices) {
		return nil, false
	}
	b := append(rs.buf[:0], '{')
	first := true
	if !rs.marked {
		rs.marked, rs.seam = true, true
		b = append(b, `"switchyard_resumed":true`...)
		first = false
	}
	it = jsonscan.Members(data, jsonscan.Fast)
	for it.Next() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, it.Key()...)
		b = append(b, '"', ':')
		v := it.Value()
		switch it.KeyString() {
		case "id":
			v = orRaw(rs.id, v)
		case "created":
			v = orRaw(rs.created, v)
		case "model":
			v = orRaw(rs.model, v)
		case "usage":
			if !isNullJSON(v) {
				b = appendUsage(b, addUsage(rs.prev, usage.Parse(v)))
				continue
			}
		}
		b = append(b, v...)
	}
	b = append(b, '}')
	rs.buf = b
	return b, true
}

// carriesDelta reports whether a chunk's choices carry anything beyond
// the role: text, tool calls, a finish_reason, logprobs.
func carriesDelta(choices []byte) bool {
	if isNullJSON(choices) {
		return false
	}
	el := jsonscan.Elements(choices, jsonscan.Fast)
	for el.Next() {
		it := jsonscan.Members(el.Value(), jsonscan.Fast)
		for it.Next() {
			switch it.KeyString() {
			case "finish_reason", "logprobs":
				if !isNullJSON(it.Value()) {
					return true
				}
			case "delta":
				d := jsonscan.Members(it.Value(), jsonscan.Fast)
				for d.Next() {
					if d.KeyString() != "role" && !emptyJSON(d.Value()) {
						return true
					}
				}
			}
		}
	}
	return false
}

func orRaw(keep, v []byte) []byte {
	if keep != nil {
		return keep
	}
	return v
}

// isNullJSON reports an absent or null value.
func isNullJSON(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// emptyJSON reports an absent, null, empty-string, empty-array or
// empty-object value.
func emptyJSON(v []byte) bool {
	switch string(v) {
	case "", "null", `""`, "[]", "{}":
		return true
	}
	return false
}

func addUsage(a, b provider.Usage) provider.Usage {
	return provider.Usage{
		PromptTokens: a.PromptTokens + b.PromptTokens, CompletionTokens: a.CompletionTokens + b.CompletionTokens,
		TotalTokens: a.TotalTokens + b.TotalTokens, CachedTokens: a.CachedTokens + b.CachedTokens,
		ReasoningTokens: a.ReasoningTokens + b.ReasoningTokens,
	}
}

// appendUsage appends u as a chat completion's usage object.
func appendUsage(b []byte, u provider.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	return append(b, `}}`...)
}

// estimateUsage is the usage of a cut attempt on d that reported none:
// the request's prompt and the text delivered, counted with d's
// tokenizer.
func (rs *resumer) estimateUsage(req *provider.Request, d *deployment.Deployment) provider.Usage {
	model := d.Config().Model
	u := provider.Usage{PromptTokens: promptTokens(req, model), CompletionTokens: tokens.Count(model, string(rs.content))}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}
