package handler

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestScanFields(t *testing.T) {
	tests := []struct {
		body    string
		want    fields
		code    string // "" for success
		param   string
		message string
	}{
		{body: `{"model":"gpt-4o","stream":true}`, want: fields{Model: "gpt-4o", Stream: true}},
		{body: ` {"messages":[{"role":"user","content":"a \"quoted\" \u00e9 \\ text"}], "model" : "m\u0031" , "stream":false} `, want: fields{Model: "m1"}},
		{body: `{"model":null,"stream":null,"metadata":null}`, want: fields{}},
		{body: `{"metadata":{"user":"x","tags":["a","b"]},"model":"m"}`, want: fields{Model: "m", Metadata: &metadata{Tags: []string{"a", "b"}}}},
		{body: `{"metadata":{"tags":[]},"model":"m"}`, want: fields{Model: "m", Metadata: &metadata{Tags: []string{}}}},
		{body: `{"metadata":{"tags":["a",null]},"model":"m"}`, want: fields{Model: "m", Metadata: &metadata{Tags: []string{"a", ""}}}},
		{body: `{"model":"a","model":"b"}`, want: fields{Model: "b"}},
		{body: `{"x":[1,-2.5e+10,0.0,true,false,null,{"y":[]}],"model":"m"}`, want: fields{Model: "m"}},
		{body: `{"model":"gpt-4o","messages":[}`, code: "invalid_json", message: "invalid character '}' looking for beginning of value at byte 30"},
		{body: `{"model":"gpt-4o"`, code: "invalid_json", message: "unexpected end of JSON input"},
		{body: `{"model":"gpt-4o"} x`, code: "invalid_json", message: "invalid character 'x' after top-level value"},
		{body: `{"model":"a\qb"}`, code: "invalid_json", message: "in string escape code"},
		{body: "{\"model\":\"a\tb\"}", code: "invalid_json", message: "in string literal"},
		{body: `{"n":01}`, code: "invalid_json"},
		{body: `{"n":1.}`, code: "invalid_json"},
		{body: `{"n":-}`, code: "invalid_json"},
		{body: `{"n":1e}`, code: "invalid_json"},
		{body: `{"n":tru}`, code: "invalid_json"},
		{body: `{"a" 1}`, code: "invalid_json", message: "after object key"},
		{body: `{"a":1,}`, code: "invalid_json", message: "beginning of object key"},
		{body: `[1,2]`, code: "invalid_json", message: "must be a JSON object, got array"},
		{body: `"model"`, code: "invalid_json", message: "must be a JSON object, got string"},
		{body: `{"model":4}`, code: "invalid_type", param: "model", message: `invalid type for "model": expected a string, got number`},
		{body: `{"model":["a"]}`, code: "invalid_type", param: "model", message: "got array"},
		{body: `{"stream":"yes","model":"m"}`, code: "invalid_type", param: "stream", message: "expected a boolean, got string"},
		{body: `{"metadata":"x","model":"m"}`, code: "invalid_type", param: "metadata"},
		{body: `{"metadata":{"tags":"a"},"model":"m"}`, code: "invalid_type", param: "metadata.tags", message: "expected an array, got string"},
		{body: `{"metadata":{"tags":[1]},"model":"m"}`, code: "invalid_type", param: "metadata.tags", message: "expected a string, got number"},
		// A syntax error wins over a type error, as in encoding/json.
		{body: `{"model":4,"x":}`, code: "invalid_json"},
		{body: `{"model":"m","metadata":{"tags":[1}}`, code: "invalid_json"},
		// Null leaves a field as it was, and sets a pointer to nil, as in encoding/json.
		{body: `{"model":"a","model":null,"stream":true,"stream":null}`, want: fields{Model: "a", Stream: true}},
		{body: `{"metadata":{"tags":["a"]},"metadata":null,"model":"m"}`, want: fields{Model: "m"}},
		{body: `{"metadata":{"tags":["a"]},"metadata":{"user":"u"},"model":"m"}`, want: fields{Model: "m", Metadata: &metadata{Tags: []string{"a"}}}},
		{body: `{"metadata":{"t\u0061gs":["x"]},"model":"m"}`, want: fields{Model: "m", Metadata: &metadata{Tags: []string{"x"}}}},
	}
	for _, tt := range tests {
		var f fields
		e := scanFields([]byte(tt.body), &f)
		if tt.code == "" {
			if e != nil {
				t.Errorf("%s: %s", tt.body, e.message)
			} else if !reflect.DeepEqual(f, tt.want) {
				t.Errorf("%s: got %+v (%+v), want %+v", tt.body, f, f.Metadata, tt.want)
			}
			continue
		}
		if e == nil {
			t.Errorf("%s: no error, want %s", tt.body, tt.code)
			continue
		}
		if e.code != tt.code || e.param != tt.param || !strings.Contains(e.message, tt.message) || e.status != 400 {
			t.Errorf("%s: got %d %s %q %q, want %s %q containing %q", tt.body, e.status, e.code, e.param, e.message, tt.code, tt.param, tt.message)
		}
	}
}

// TestStripTagsKeepsBytes checks that the members of metadata other than
// tags, and everything outside metadata, keep their bytes (no re-encoding:
// no HTML escaping, no reordering).
func TestStripTagsKeepsBytes(t *testing.T) {
	for in, want := range map[string]string{
		`{"metadata":{"z":"<b>&","tags":["a"],"a":1.50},"x":"\u00e9"}`: `{"metadata":{"z":"<b>&","a":1.50},"x":"\u00e9"}`,
		`{"metadata":{"tags":1,"tags":[],"u":{"k":[1, 2]}}}`:           `{"metadata":{"u":{"k":[1, 2]}}}`,
		`{"metadata":null,"x":1}`:                                      `{"metadata":null,"x":1}`,
		`{"x":1 , "metadata":{"t\u0061gs":[]}}`:                        `{"x":1 }`,
	} {
		got, err := stripTags([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("stripTags(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := stripTags([]byte(`{"metadata":"x"}`)); err == nil {
		t.Error("stripTags accepted a metadata string")
	}
}

// referenceFields decodes body with encoding/json. ok is false when the
// body uses a key that differs from a field only by case: encoding/json
// accepts those, the handler (like OpenAI) does not.
func referenceFields(body []byte) (f fields, valid, typeOK, ok bool) {
	if !json.Valid(body) {
		return f, false, false, true
	}
	var top any
	_ = json.Unmarshal(body, &top)
	m, isObj := top.(map[string]any)
	if !isObj {
		return f, true, false, true
	}
	for k, v := range m {
		for _, name := range []string{"model", "stream", "metadata"} {
			if k != name && strings.EqualFold(k, name) {
				return f, true, false, false
			}
		}
		if md, isMap := v.(map[string]any); isMap && k == "metadata" {
			for mk := range md {
				if mk != "tags" && strings.EqualFold(mk, "tags") {
					return f, true, false, false
				}
			}
		}
	}
	err := json.Unmarshal(body, &f)
	return f, true, err == nil, true
}

func tagsOf(f fields) []string {
	if f.Metadata == nil {
		return nil
	}
	return f.Metadata.Tags
}

func FuzzScanFields(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		`{"metadata":{"tags":["a",null],"x":{"y":[1,2e3,-0.5]}},"model":"m\u00e9"}`,
		`{"model":4}`, `[]`, `null`, `{"a":01}`, `{"model":"a\ud800"}`, ` {} `, `{"stream":null}`,
		`{"MODEL":"x"}`, `{"metadata":{"tags":"x"}}`, "{\"a\":\"\x01\"}", `{"a":"\u12"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got fields
		e := scanFields(body, &got)
		want, valid, typeOK, comparable := referenceFields(body)
		if !comparable {
			return
		}
		switch {
		case !valid:
			if e == nil || e.code != "invalid_json" {
				t.Fatalf("%q: encoding/json finds it malformed, scanFields gave %+v", body, e)
			}
		case !typeOK:
			if e == nil {
				t.Fatalf("%q: encoding/json finds a type error, scanFields none", body)
			}
		case e != nil:
			t.Fatalf("%q: encoding/json accepts it, scanFields: %s", body, e.message)
		case got.Model != want.Model || got.Stream != want.Stream || !reflect.DeepEqual(tagsOf(got), tagsOf(want)):
			t.Fatalf("%q: got %+v %+v, encoding/json %+v %+v", body, got, got.Metadata, want, want.Metadata)
		}
	})
}

// BenchmarkScanFields compares the one-pass scanner with encoding/json on
// a chat body with a 1 MiB base64 image.
func BenchmarkScanFields(b *testing.B) {
	img := bytes.Repeat([]byte("QUJDRA"), 1<<20/6)
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + string(img) + `"}}]}],"stream":true}`)
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var f fields
			if e := scanFields(body, &f); e != nil || f.Model != "gpt-4o" {
				b.Fatal(e)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var f fields
			if err := json.Unmarshal(body, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
