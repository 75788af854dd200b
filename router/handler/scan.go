package handler

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/switchyard-go/switchyard/internal/jsonscan"
)

// This file reads the few fields the handler needs from a JSON request body
// in one pass, checking the whole body's grammar on the way (the
// jsonscan.Strict mode: as encoding/json checks it), without allocating:
// encoding/json would scan the body twice (once to check it, once to
// decode) at several nanoseconds a byte, which for a chat request carrying
// a few megabytes of base64 images is milliseconds. It also removes
// metadata.tags from the body, keeping every other byte.

// jsonTypeError is a field of the wrong JSON type.
type jsonTypeError struct {
	field, want, got string
}

// fieldScan reads fields into f. (The first type error is kept apart
// from f, which would otherwise escape with the error's strings.)
type fieldScan struct {
	f *fields
	// typeErr is the first field of the wrong type; it is reported only
	// when the document's grammar is right, as encoding/json does.
	typeErr *jsonTypeError
}

// scanFields reads "model", "stream" and "metadata.tags" from body into f
// as encoding/json would decode them, checking that body is one
// well-formed JSON object.
func scanFields(body []byte, f *fields) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return badRequest("", "invalid_json", "the request body is empty: expected a JSON object")
	}
	if trimmed[0] != '{' {
		if err := jsonscan.Valid(body, jsonscan.Strict); err != nil {
			return badRequest("", "invalid_json", "malformed JSON body: "+err.Error())
		}
		return badRequest("", "invalid_json", "the request body must be a JSON object, got "+kind(trimmed))
	}
	var typeErr jsonTypeError
	s := fieldScan{f: f, typeErr: &typeErr}
	it := jsonscan.Members(body, jsonscan.Strict)
	for it.Next() {
		s.member(&it)
	}
	if err := it.Err(); err != nil {
		return badRequest("", "invalid_json", "malformed JSON body: "+err.Error())
	}
	if t := typeErr; t.field != "" {
		return badRequest(t.field, "invalid_type", fmt.Sprintf("invalid type for %q: expected %s, got %s", t.field, t.want, t.got))
	}
	return nil
}

// member reads one top-level member when it is one the handler needs.
// Null leaves a field as it is, and a pointer nil, as in encoding/json.
func (s *fieldScan) member(it *jsonscan.Iter) {
	v := it.Value()
	switch it.KeyString() {
	case "model":
		switch v[0] {
		case '"':
			s.f.Model, _ = jsonscan.Unquote(v) // checked by the scan
		case 'n':
		default:
			s.typeError("model", "a string", v)
		}
	case "stream":
		switch v[0] {
		case 't':
			s.f.Stream = true
		case 'f':
			s.f.Stream = false
		case 'n':
		default:
			s.typeError("stream", "a boolean", v)
		}
	case "metadata":
		switch v[0] {
		case '{':
			s.metadata(v)
		case 'n':
			s.f.Metadata = nil
		default:
			s.typeError("metadata", "an object", v)
		}
	}
}

// metadata reads the tags of a metadata object.
func (s *fieldScan) metadata(v []byte) {
	it := jsonscan.Members(v, jsonscan.Fast) // checked by the scan
	for it.Next() {
		if it.KeyString() != "tags" {
			continue
		}
		tags, ok := s.stringList("metadata.tags", it.Value())
		if !ok {
			continue
		}
		if s.f.Metadata == nil {
			s.f.Metadata = &metadata{}
		}
		s.f.Metadata.Tags = tags
	}
}

// stringList reads an array of strings (null reads as nil, a null element
// as ""). ok is false when v is of another type, a type error.
func (s *fieldScan) stringList(field string, v []byte) (list []string, ok bool) {
	switch v[0] {
	case 'n':
		return nil, true
	case '[':
	default:
		s.typeError(field, "an array", v)
		return nil, false
	}
	list = []string{}
	it := jsonscan.Elements(v, jsonscan.Fast)
	for it.Next() {
		switch e := it.Value(); e[0] {
		case '"':
			str, _ := jsonscan.Unquote(e)
			list = append(list, str)
		case 'n':
			list = append(list, "")
		default:
			s.typeError(field, "a string", e)
		}
	}
	return list, true
}

func (s *fieldScan) typeError(field, want string, v []byte) {
	if s.typeErr.field == "" {
		*s.typeErr = jsonTypeError{field: field, want: want, got: kind(v)}
	}
}

// kind names the JSON type of the value v starts.
func kind(v []byte) string {
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// stripTags returns body without metadata.tags, which only the router
// reads: OpenAI refuses metadata values that are not strings. metadata is
// removed altogether when nothing else is in it. The other bytes of the
// body are kept as they are (the other members of metadata too, though the
// white space between them is not). body must be a valid JSON object.
// Every "metadata" member is cleaned, should the key be given more than
// once.
func stripTags(body []byte) ([]byte, error) {
	spans, err := memberSpans(body, "metadata")
	if err != nil || len(spans) == 0 {
		return body, err
	}
	out := body
	for i := len(spans) - 1; i >= 0; i-- { // from the end: earlier offsets stay valid
		if out, err = stripTagsAt(out, spans[i]); err != nil {
			return body, err
		}
	}
	return out, nil
}

// span is a member of a JSON object: body[start:end] holds it, with its
// leading comma unless it is the first member, whose value starts at
// body[value].
type span struct {
	start, end, value int
	first             bool
}

// memberSpans finds the top-level members named key in a JSON object, in
// order.
func memberSpans(body []byte, key string) ([]span, error) {
	var spans []span
	it := jsonscan.Members(body, jsonscan.Fast)
	for it.Next() {
		if it.KeyIs(key) {
			start, end := it.Span()
			value, _ := it.ValueSpan()
			spans = append(spans, span{start: start, end: end, value: value, first: it.First()})
		}
	}
	return spans, it.Err()
}

// stripTagsAt removes "tags" from the metadata member at sp.
func stripTagsAt(body []byte, sp span) ([]byte, error) {
	md := body[sp.value:sp.end]
	switch md[0] {
	case 'n':
		return body, nil
	case '{':
	default:
		return body, errors.New("handler: metadata is not an object")
	}
	// The members of metadata other than tags, key and value as written.
	var kept []byte
	hadTags := false
	it := jsonscan.Members(md, jsonscan.Fast)
	for it.Next() {
		if it.KeyIs("tags") {
			hadTags = true
			continue
		}
		if kept != nil {
			kept = append(kept, ',')
		}
		kept = append(kept, '"')
		kept = append(kept, it.Key()...)
		kept = append(kept, `":`...)
		kept = append(kept, it.Value()...)
	}
	if err := it.Err(); err != nil || !hadTags {
		return body, err
	}
	out := make([]byte, 0, len(body))
	if kept != nil {
		out = append(out, body[:sp.value]...)
		out = append(out, '{')
		out = append(out, kept...)
		out = append(out, '}')
		return append(out, body[sp.end:]...), nil
	}
	// Drop the whole member. A later member's leading comma is in its own
	// span, so only a first member needs the comma after it removed.
	end := sp.end
	if sp.first {
		rest := bytes.TrimLeft(body[end:], " \t\r\n")
		if len(rest) > 0 && rest[0] == ',' {
			end = len(body) - len(rest) + 1
		}
	}
	out = append(out, body[:sp.start]...)
	return append(out, body[end:]...), nil
}
