package handler

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestStripTags(t *testing.T) {
	for in, want := range map[string]string{
		`{"model":"m","metadata":{"tags":["a"]},"x":1}`:              `{"model":"m","x":1}`,
		`{"metadata":{"tags":["a"]},"model":"m"}`:                    `{"model":"m"}`,
		`{ "metadata" : { "tags" : [ "a" ] } , "model" : "m" }`:      `{  "model" : "m" }`,
		`{"metadata":{"tags":1},"x":0,"metadata":{"tags":[],"u":1}}`: `{"x":0,"metadata":{"u":1}}`,
		`{"model":"m","metadata":{"tags":["a"]}}`:                    `{"model":"m"}`,
		`{"metadata":{"tags":["a"]}}`:                                `{}`,
		`{"model":"m","metadata":{"user":"u","tags":[]},"x":[1]}`:    `{"model":"m","metadata":{"user":"u"},"x":[1]}`,
		`{"model":"m","metadata":{"user":"u"}}`:                      `{"model":"m","metadata":{"user":"u"}}`,
		`{"model":"m"}`:                                              `{"model":"m"}`,
	} {
		got, err := stripTags([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("stripTags(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// FuzzStripTags checks that removing metadata.tags from any valid object
// leaves a valid object equal to the input without them.
func FuzzStripTags(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","metadata":{"tags":["a"]},"x":1}`,
		`{"metadata":{"tags":["a"],"b":{"c":[1,2]}}}`,
		` {"metadata" : {"tags":null} } `,
		`{"a":"metadata","metadata":{"tags":1},"metadata":{"tags":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in map[string]any
		if json.Unmarshal(body, &in) != nil || in == nil {
			return
		}
		out, err := stripTags(body)
		if err != nil {
			return // metadata that is not an object: refused earlier by scanFields
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("stripTags(%q) = %q: not JSON: %v", body, out, err)
		}
		if spans, _ := memberSpans(body, "metadata"); len(spans) > 1 {
			return // duplicate keys: each is cleaned; which one counts is the reader's business
		}
		if md, ok := in["metadata"].(map[string]any); ok {
			if _, had := md["tags"]; had {
				delete(md, "tags")
				if len(md) == 0 {
					delete(in, "metadata")
				}
			}
		}
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("stripTags(%q) = %q", body, out)
		}
	})
}
