package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"
)

// ignoredFields are request fields that do not change the answer, removed
// before keying: the answer to a streaming request is the same completion.
var ignoredFields = [...]string{"stream", "stream_options", "user", "metadata", controlField}

// controlField is the per-request cache control object (LiteLLM's).
const controlField = "cache"

// KeyError says a request body could not be keyed: it is not a JSON
// object.
type KeyError struct{ Err error }

func (e *KeyError) Error() string { return "cache: request body: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }

// Key returns the response cache key of a request: the SHA-256 (hex) of
// the endpoint and the canonical form of the body, in which object keys are
// sorted, insignificant whitespace is gone, numbers are written one way
// ("1.0" and "1" alike), fields that do not change the answer (stream,
// stream_options, user, metadata and the cache control object) are
// removed, and "model" is replaced by modelGroup, so that the same question
// to any deployment of a group hits the same entry. A cache namespace
// (`"cache": {"namespace": "..."}`) is part of the key.
//
// Pass the body as the caller sent it, before [SplitControl]; [Prepare]
// does both at once.
func Key(modelGroup, endpoint string, body []byte) (string, error) {
	p, err := Prepare(modelGroup, endpoint, body)
	return p.Key, err
}

// Prepared is a request made ready for the response cache.
type Prepared struct {
	// Key is the request's cache key (see [Key]).
	Key string
	// Control is the request's cache control.
	Control Control
	// Body is the request body without the cache control object, to send
	// upstream: the original bytes when there was none.
	Body []byte
}

// Prepare parses a request body once and returns its cache key, its cache
// control and the body to send upstream. It is what the router calls
// before looking in the response cache.
func Prepare(modelGroup, endpoint string, body []byte) (Prepared, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return Prepared{}, err
	}
	p := Prepared{Body: body}
	if raw, ok := obj[controlField]; ok {
		if p.Control, err = parseControl(raw); err != nil {
			return Prepared{}, err
		}
		if p.Body, err = withoutField(body, controlField); err != nil {
			return Prepared{}, err
		}
	}
	for _, f := range ignoredFields {
		delete(obj, f)
	}
	obj["model"] = modelGroup

	h := sha256.New()
	var buf bytes.Buffer
	buf.WriteString("switchyard-cache-v1\x00")
	buf.WriteString(endpoint)
	buf.WriteByte(0)
	buf.WriteString(p.Control.Namespace)
	buf.WriteByte(0)
	appendCanonical(&buf, obj)
	h.Write(buf.Bytes())
	p.Key = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// decodeObject decodes a JSON object with numbers kept as text.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &KeyError{Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &KeyError{Err: errors.New("data after the JSON value")}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &KeyError{Err: errors.New("not a JSON object")}
	}
	return obj, nil
}

// appendCanonical writes v in canonical JSON.
func appendCanonical(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			appendString(buf, k)
			buf.WriteByte(':')
			appendCanonical(buf, v[k])
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			appendCanonical(buf, e)
		}
		buf.WriteByte(']')
	case string:
		appendString(buf, v)
	case json.Number:
		buf.WriteString(canonicalNumber(v))
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	default: // nil
		buf.WriteString("null")
	}
}

func appendString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // cannot fail for a string
	buf.Write(b)
}

// canonicalNumber writes a JSON number one way: integers that fit int64 as
// integers, everything else as the shortest float64 form.
func canonicalNumber(n json.Number) string {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return string(n) // out of range: keep the text
	}
	if f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// withoutField returns body without a top-level field. The other fields
// keep their values byte for byte; their order becomes sorted.
func withoutField(body []byte, field string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &KeyError{Err: err}
	}
	delete(m, field)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, &KeyError{Err: err}
	}
	return out, nil
}

// Control is a request's per-call cache control, read from its "cache"
// object as LiteLLM defines it:
//
//	"cache": {"no-cache": true}       do not answer from the cache (the answer is still stored)
//	"cache": {"no-store": true}       do not store the answer
//	"cache": {"ttl": 600}             store the answer for 600 s instead of the cache's default
//	"cache": {"s-maxage": 60}         accept only a cached answer at most 60 s old
//	"cache": {"namespace": "team-a"}  a separate key space
//	"cache": {"use-cache": true}      use the cache when it is opt-in (LiteLLM's mode "default_off")
//
// The zero Control reads and writes with the cache's defaults. The "cache"
// object is removed from the body sent upstream (OpenAI rejects unknown
// fields).
type Control struct {
	NoCache   bool
	NoStore   bool
	TTL       time.Duration
	MaxAge    time.Duration
	Namespace string
	// UseCache asks for the cache when a router caches only the calls
	// that opt in.
	UseCache bool
}

// ControlError says the "cache" object of a request is malformed.
type ControlError struct {
	Field string
	Err   error
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("cache: cache control %q: %v", e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *ControlError) Unwrap() error { return e.Err }

// Fresh reports whether an entry stored at storedAt may answer this
// request at now.
func (c Control) Fresh(storedAt, now time.Time) bool {
	return !c.NoCache && (c.MaxAge <= 0 || now.Sub(storedAt) <= c.MaxAge)
}

// SplitControl returns a request's cache control and the body without it
// (the original bytes when it has none).
func SplitControl(body []byte) (Control, []byte, error) {
	if !bytes.Contains(body, []byte(`"`+controlField+`"`)) {
		return Control{}, body, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return Control{}, nil, &KeyError{Err: err}
	}
	raw, ok := m[controlField]
	if !ok {
		return Control{}, body, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return Control{}, nil, &ControlError{Field: controlField, Err: err}
	}
	c, err := parseControl(v)
	if err != nil {
		return Control{}, nil, err
	}
	delete(m, controlField)
	out, err := json.Marshal(m)
	if err != nil {
		return Control{}, nil, &KeyError{Err: err}
	}
	return c, out, nil
}

// parseControl reads a decoded "cache" value (null means none).
func parseControl(v any) (Control, error) {
	var c Control
	if v == nil {
		return c, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return c, &ControlError{Field: controlField, Err: errors.New("not an object")}
	}
	for k, v := range m {
		var err error
		switch k {
		case "no-cache":
			c.NoCache, err = controlBool(v)
		case "no-store":
			c.NoStore, err = controlBool(v)
		case "use-cache":
			c.UseCache, err = controlBool(v)
		case "ttl":
			c.TTL, err = controlSeconds(v)
		case "s-maxage":
			c.MaxAge, err = controlSeconds(v)
		case "namespace":
			s, ok := v.(string)
			if !ok && v != nil {
				err = errors.New("not a string")
			}
			c.Namespace = s
		default:
			continue // unknown directives are ignored, as LiteLLM does
		}
		if err != nil {
			return Control{}, &ControlError{Field: k, Err: err}
		}
	}
	return c, nil
}

func controlBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// controlSeconds reads a number of seconds (a JSON number or a numeric
// string), at most a year.
func controlSeconds(v any) (time.Duration, error) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	case nil:
		return 0, nil
	default:
		return 0, errors.New("not a number of seconds")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 365*24*3600 {
		return 0, errors.New("not a number of seconds between 0 and a year")
	}
	return time.Duration(f * float64(time.Second)), nil
}
