package respcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
)

// ignoredFields are request fields that do not change the answer, removed
// before keying: the answer to a streaming request is the same completion.
var ignoredFields = [...]string{"stream", "stream_options", "user", "metadata", controlField}

// controlField is the per-request cache control object (LiteLLM's).
const controlField = "cache"

// keyError says a request body could not be keyed: it is not a JSON
// object. Such a request is sent upstream uncached.
type keyError struct{ err error }

func (e *keyError) Error() string { return "respcache: request body: " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// Prepared is a request made ready for the response cache.
type Prepared struct {
	// Key is the request's cache key: the SHA-256 (hex) of the endpoint,
	// the namespace and the canonical form of the body, in which object
	// keys are sorted, insignificant whitespace is gone, numbers are
	// written one way ("1.0" and "1" alike), fields that do not change the
	// answer (stream, stream_options, user, metadata and the cache control
	// object) are removed, and "model" is replaced by the model group, so
	// that the same question to any deployment of a group hits the same
	// entry.
	Key string
	// Control is the request's cache control.
	Control Control
	// Body is the request body without the cache control object, to send
	// upstream: the original bytes when there was none.
	Body []byte
}

// Prepare parses a request body, as the caller sent it, once and returns
// its cache key, its cache control and the body to send upstream: the
// request normalisation the router does before looking in the response
// cache. The error is a *ControlError when the "cache" object is
// malformed (the caller's mistake); any other error says the body is not
// a JSON object, which is sent upstream uncached.
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
		return nil, &keyError{err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &keyError{err: errors.New("data after the JSON value")}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &keyError{err: errors.New("not a JSON object")}
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
		return nil, &keyError{err: err}
	}
	delete(m, field)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, &keyError{err: err}
	}
	return out, nil
}
