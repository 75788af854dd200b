package openai

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestRewriteBody(t *testing.T) {
	model := quoteJSON("gpt-4o-2024-08-06")
	tests := []struct {
		name        string
		in          string
		stream      bool
		want        string
		wantErr     bool
		callerAsked bool
	}{
		{"replace", `{"model":"group","messages":[]}`, false, `{"model":"gpt-4o-2024-08-06","messages":[]}`, false, false},
		{"keeps spacing and order", "{ \"messages\" : [ {\"role\":\"user\"} ] ,\n \"model\" : \"x\" , \"z\":1 }", false,
			"{ \"messages\" : [ {\"role\":\"user\"} ] ,\n \"model\" : \"gpt-4o-2024-08-06\" , \"z\":1 }", false, false},
		{"missing model", `{"messages":[]}`, false, `{"model":"gpt-4o-2024-08-06","messages":[]}`, false, false},
		{"empty object", ` {} `, false, ` {"model":"gpt-4o-2024-08-06"} `, false, false},
		{"nested model untouched", `{"model":"a","metadata":{"model":"keep"},"tools":[{"model":"keep"}]}`, false,
			`{"model":"gpt-4o-2024-08-06","metadata":{"model":"keep"},"tools":[{"model":"keep"}]}`, false, false},
		{"model in a string value untouched", `{"prompt":"\"model\": \"x\"","model":"a"}`, false,
			`{"prompt":"\"model\": \"x\"","model":"gpt-4o-2024-08-06"}`, false, false},
		{"escaped key", `{"mod\u0065l":"a"}`, false, `{"mod\u0065l":"gpt-4o-2024-08-06"}`, false, false},
		{"duplicate keys all replaced", `{"model":"a","model":"b"}`, false, `{"model":"gpt-4o-2024-08-06","model":"gpt-4o-2024-08-06"}`, false, false},
		{"non-string model", `{"model":null}`, false, `{"model":"gpt-4o-2024-08-06"}`, false, false},
		{"stream added", `{"model":"a"}`, true, `{"stream":true,"model":"gpt-4o-2024-08-06"}`, false, false},
		{"stream added to object without model", `{"x":1}`, true, `{"model":"gpt-4o-2024-08-06","stream":true,"x":1}`, false, false},
		{"stream false forced", `{"stream":false,"model":"a"}`, true, `{"stream":true,"model":"gpt-4o-2024-08-06"}`, false, false},
		{"stream true kept", `{"stream":true,"model":"a"}`, true, `{"stream":true,"model":"gpt-4o-2024-08-06"}`, false, true},
		{"caller stream reported", `{"stream":true,"model":"a"}`, false, `{"stream":true,"model":"gpt-4o-2024-08-06"}`, false, true},
		{"backslashes before quote", `{"a":"x\\","model":"m\\\"y"}`, false, `{"a":"x\\","model":"gpt-4o-2024-08-06"}`, false, false},
		{"unicode", `{"messages":[{"content":"héllo ☃ \ud83d\ude00"}],"model":"a"}`, false,
			`{"messages":[{"content":"héllo ☃ \ud83d\ude00"}],"model":"gpt-4o-2024-08-06"}`, false, false},
		{"array", `[1,2]`, false, "", true, false},
		{"truncated", `{"model":"a","messages":[`, false, "", true, false},
		{"trailing garbage", `{"model":"a"} x`, false, "", true, false},
		{"not json", `model=a`, false, "", true, false},
		{"empty", ``, false, "", true, false},
		{"null", `null`, false, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info, err := rewriteBody([]byte(tt.in), model, tt.stream)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if info.stream != tt.callerAsked {
				t.Errorf("info.stream = %v, want %v", info.stream, tt.callerAsked)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestRewriteBodyUnchangedWhenNothingToDo(t *testing.T) {
	in := []byte(`{"model":"x"}`)
	got, _, err := rewriteBody(in, nil, false)
	if err != nil || &got[0] != &in[0] {
		t.Fatalf("a body needing no change was copied (err %v)", err)
	}
}

func TestRewriteBodyManyDuplicates(t *testing.T) {
	in := `{` + strings.Repeat(`"model":"a",`, maxEdits+2) + `"x":1}`
	got, _, err := rewriteBody([]byte(in), quoteJSON("m"), false)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil || m["model"] != "m" || m["x"] != 1.0 {
		t.Fatalf("slow path gave %s (%v)", got, err)
	}
}

// FuzzRewriteModel checks the fast rewrite against encoding/json: whenever
// the input is a JSON object, the output is too, with the new model and
// every other member unchanged.
func FuzzRewriteModel(f *testing.F) {
	for _, s := range []string{
		`{"model":"a","messages":[{"role":"user","content":"hi"}]}`,
		`{"messages":[],"stream":false}`,
		`{"a":{"model":"x"},"b":["model"],"model":1e5}`,
		`{"k\"ey":"v\\","model":"\u00e9"}`,
		` { } `,
		`{"model":"a","model":"b","stream":true}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	model := quoteJSON("upstream-model")
	f.Fuzz(func(t *testing.T, in []byte, stream bool) {
		var orig map[string]json.RawMessage
		origErr := json.Unmarshal(in, &orig)
		got, _, err := rewriteBody(in, model, stream)
		if origErr != nil || orig == nil {
			if err == nil && orig == nil && origErr == nil {
				t.Fatalf("accepted null: %s", got)
			}
			return // the scanner may accept some non-JSON; the upstream judges it
		}
		if err != nil {
			t.Fatalf("refused valid JSON %s: %v", in, err)
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("output %s is not JSON: %v (input %s)", got, err, in)
		}
		var m string
		if json.Unmarshal(out["model"], &m) != nil || m != "upstream-model" {
			t.Fatalf("model = %s in %s", out["model"], got)
		}
		if stream && string(out["stream"]) != "true" {
			t.Fatalf("stream = %s in %s", out["stream"], got)
		}
		delete(orig, "model")
		delete(out, "model")
		if stream {
			delete(orig, "stream")
			delete(out, "stream")
		}
		if !reflect.DeepEqual(compactAll(orig), compactAll(out)) {
			t.Fatalf("members changed:\n in  %s\n out %s", in, got)
		}
	})
}

func compactAll(m map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		var b bytes.Buffer
		_ = json.Compact(&b, v)
		out[k] = b.String()
	}
	return out
}

var benchChatBody = []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant that answers briefly and precisely."},` +
	`{"role":"user","content":"What is the capital of France? Please answer in one word, and then explain in two sentences why it became the capital."}],` +
	`"temperature":0.2,"max_tokens":256,"stream_options":{"include_usage":true},"metadata":{"user":"u-123","tags":["a","b"]},` +
	`"tools":[{"type":"function","function":{"name":"lookup","description":"Look a city up","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}`)

func BenchmarkRewriteModel(b *testing.B) {
	model := quoteJSON("gpt-4o-2024-08-06")
	b.Run("chat-1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(benchChatBody)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := rewriteBody(benchChatBody, model, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A 4 MiB base64 image in a message: strings are skipped with IndexByte.
	big := []byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` +
		strings.Repeat("QUJD", 1<<20) + `"}}]}],"model":"gpt-4o"}`)
	b.Run("image-4MiB", func(b *testing.B) {
		b.SetBytes(int64(len(big)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := rewriteBody(big, model, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map-remarshal-1KiB", func(b *testing.B) { // the slow path, for comparison
		b.SetBytes(int64(len(benchChatBody)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := rewriteSlow(benchChatBody, model, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
