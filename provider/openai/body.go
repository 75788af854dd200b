package openai

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/switchyard-go/switchyard/internal/jsonscan"
)

// This file rewrites the top level of request bodies: "model" (and
// "stream") are replaced in place, without decoding (or re-encoding)
// anything else, so a multi-megabyte body with base64 images is walked
// with bytes.IndexByte inside strings (internal/jsonscan's Fast mode) and
// copied once. Strings are not checked inside, for speed: control
// characters and invalid escapes pass, and are left for the upstream (or
// the caller) to reject.

var errNotObject = errors.New("not a JSON object")

// isNull reports whether a raw value is absent or null.
func isNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// bodyEdit is what rewriteBody found and changed.
type bodyEdit struct {
	// stream is the caller's "stream" value was true.
	stream bool
}

// maxEdits bounds the replacements rewriteBody makes in place; a body with
// more duplicate keys than that goes through the slow path.
const maxEdits = 8

type span struct {
	start, end int
	with       []byte
}

// rewriteBody returns body with every top-level "model" set to modelJSON (a
// JSON string; nil leaves "model" alone) and, when forceStream is set,
// "stream" set to true. Missing keys are added at the front of the object.
// Every other byte of the body is kept. It reports whether the caller's body
// asked for a stream.
func rewriteBody(body, modelJSON []byte, forceStream bool) ([]byte, bodyEdit, error) {
	var (
		edits      [maxEdits]span
		n          int
		info       bodyEdit
		haveModel  bool
		haveStream bool
		empty      = true
	)
	it := jsonscan.Members(body, jsonscan.Fast)
	for it.Next() {
		empty = false
		switch {
		case modelJSON != nil && it.KeyIs("model"):
			haveModel = true
			if n == maxEdits {
				return rewriteSlow(body, modelJSON, forceStream)
			}
			vs, ve := it.ValueSpan()
			edits[n] = span{vs, ve, modelJSON}
			n++
		case it.KeyIs("stream"):
			haveStream = true
			v := it.Value()
			info.stream = string(v) == "true"
			if forceStream && !info.stream {
				if n == maxEdits {
					return rewriteSlow(body, modelJSON, forceStream)
				}
				vs, ve := it.ValueSpan()
				edits[n] = span{vs, ve, litTrue}
				n++
			}
		}
	}
	if err := it.Err(); err != nil {
		// The fast scanner refused the body: let encoding/json judge it,
		// so the caller gets its usual error message.
		return rewriteSlow(body, modelJSON, forceStream)
	}
	var prefix []byte
	if modelJSON != nil && !haveModel {
		prefix = append(prefix, `"model":`...)
		prefix = append(prefix, modelJSON...)
	}
	if forceStream && !haveStream {
		if prefix != nil {
			prefix = append(prefix, ',')
		}
		prefix = append(prefix, `"stream":true`...)
	}
	if n == 0 && prefix == nil {
		return body, info, nil
	}
	size := len(body) + len(prefix) + 1
	for _, e := range edits[:n] {
		size += len(e.with) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	pos := 0
	if prefix != nil {
		open := it.Open()
		out = append(out, body[:open+1]...)
		out = append(out, prefix...)
		pos = open + 1
		if !empty {
			out = append(out, ',')
		}
	}
	for _, e := range edits[:n] {
		out = append(out, body[pos:e.start]...)
		out = append(out, e.with...)
		pos = e.end
	}
	out = append(out, body[pos:]...)
	return out, info, nil
}

var litTrue = []byte("true")

// rewriteSlow is rewriteBody through encoding/json, for bodies the fast
// scanner cannot handle. Members keep their raw values but not their order.
func rewriteSlow(body, modelJSON []byte, forceStream bool) ([]byte, bodyEdit, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, bodyEdit{}, err
	}
	if m == nil {
		return nil, bodyEdit{}, errNotObject
	}
	info := bodyEdit{stream: string(bytes.TrimSpace(m["stream"])) == "true"}
	if modelJSON != nil {
		m["model"] = modelJSON
	}
	if forceStream {
		m["stream"] = litTrue
	}
	out, err := json.Marshal(m)
	return out, info, err
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}
