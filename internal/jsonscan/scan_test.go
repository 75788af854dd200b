package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in     string
		strict string // "" when valid in Strict mode, else a part of the message
		fast   string // the same in Fast mode ("=" for the same as strict)
	}{
		{in: `{"a":[1,-2.5e+10,0.0,true,false,null,{"y":[]}],"b":"x"}`},
		{in: ` [ ] `},
		{in: `"a \"quoted\" \u00e9 \\ text"`},
		{in: `-0`},
		{in: `{"model":"gpt-4o","messages":[}`, strict: "invalid character '}' looking for beginning of value at byte 30", fast: "="},
		{in: `{"model":"gpt-4o"`, strict: "unexpected end of JSON input", fast: "="},
		{in: `{"model":"gpt-4o"} x`, strict: "invalid character 'x' after top-level value", fast: "="},
		{in: `{"model":"a\qb"}`, strict: "in string escape code"},
		{in: `{"model":"a\u12x4"}`, strict: `in \u hexadecimal character escape`},
		{in: "{\"model\":\"a\tb\"}", strict: "in string literal"},
		{in: `{"model":"ab`, strict: "unexpected end of JSON input: in string literal", fast: "="},
		{in: `{"n":01}`, strict: "after object key:value pair", fast: "="},
		{in: `{"n":1.}`, strict: "after decimal point", fast: "="},
		{in: `{"n":-}`, strict: "in numeric literal", fast: "="},
		{in: `{"n":1e}`, strict: "in exponent", fast: "="},
		{in: `{"n":tru}`, strict: "in literal true (expecting 'e')", fast: "="},
		{in: `{"a" 1}`, strict: "after object key", fast: "="},
		{in: `{"a":1,}`, strict: "looking for beginning of object key string", fast: "="},
		{in: `[1,]`, strict: "looking for beginning of value", fast: "="},
		{in: `[1 2]`, strict: "after array element", fast: "="},
		{in: ``, strict: "unexpected end of JSON input", fast: "="},
		{in: strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)},
		{in: strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), strict: "exceeded max depth", fast: "="},
	}
	for _, tt := range tests {
		for _, m := range []Mode{Strict, Fast} {
			want := tt.strict
			if m == Fast {
				want = tt.fast
				if want == "=" {
					want = tt.strict
				}
			}
			err := Valid([]byte(tt.in), m)
			if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("Valid(%.40q, %d) = %v, want %q", tt.in, m, err, want)
			}
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("Valid(%.40q) error %T, want *SyntaxError", tt.in, err)
				}
			}
			if m == Strict && (err == nil) != json.Valid([]byte(tt.in)) {
				t.Errorf("Valid(%.40q, Strict) = %v, encoding/json disagrees", tt.in, err)
			}
		}
	}
}

func TestMembers(t *testing.T) {
	body := []byte(` { "id" : "x", "mod\u0065l":"m","usage":{"prompt_tokens":3},"choices":[{"usage":1}] , "error":null} `)
	type member struct{ key, value, span string }
	var got []member
	it := Members(body, Fast)
	for it.Next() {
		s, e := it.Span()
		vs, ve := it.ValueSpan()
		if string(body[vs:ve]) != string(it.Value()) {
			t.Errorf("ValueSpan %d:%d does not match Value %s", vs, ve, it.Value())
		}
		if it.KeyIs(it.KeyString()) != true {
			t.Errorf("KeyIs(KeyString()) false for %s", it.Key())
		}
		got = append(got, member{it.KeyString(), string(it.Value()), string(body[s:e])})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	want := []member{
		{"id", `"x"`, `"id" : "x"`},
		{"model", `"m"`, `, "mod\u0065l":"m"`},
		{"usage", `{"prompt_tokens":3}`, `,"usage":{"prompt_tokens":3}`},
		{"choices", `[{"usage":1}]`, `,"choices":[{"usage":1}]`},
		{"error", "null", `, "error":null`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d members %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("member %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if it.Open() != 1 {
		t.Errorf("Open() = %d, want 1", it.Open())
	}

	for _, bad := range []string{`[1]`, `null`, ``, `{"a":[1}`, `{"a":{"b":]}}`, `{"a" 1}`, `{"a":1,}`, `{"a":tru}`, `{"a":"x}`, `{"a":1}{`, `{"a":1 "b":2}`} {
		it := Members([]byte(bad), Fast)
		for it.Next() {
		}
		if it.Err() == nil {
			t.Errorf("Members accepted %s", bad)
		}
	}
}

func TestElements(t *testing.T) {
	var got []string
	it := Elements([]byte(` ["a", null ,1,{"b":[2]}] `), Strict)
	for it.Next() {
		got = append(got, string(it.Value()))
		if len(it.Key()) != 0 {
			t.Errorf("element has key %s", it.Key())
		}
	}
	if it.Err() != nil || strings.Join(got, "|") != `"a"|null|1|{"b":[2]}` {
		t.Errorf("elements %q, err %v", got, it.Err())
	}
	it = Elements([]byte(`{}`), Strict)
	if it.Next() || it.Err() == nil {
		t.Error("Elements accepted an object")
	}
}

func TestFind(t *testing.T) {
	body := []byte(`{"id":"x","usage":{"prompt_tokens":3},"choices":[{"usage":1}],"error":null,"id":"y"}`)
	for key, want := range map[string]string{
		"usage": `{"prompt_tokens":3}`, "error": "null", "id": `"y"`, "absent": "",
	} {
		v, err := Find(body, key, Fast)
		if err != nil || string(v) != want {
			t.Errorf("Find(%q) = %s, %v; want %s", key, v, err, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`: "plain", `"m\u0031"`: "m1", `"a\"b"`: `a"b`, `""`: "", `"\ud800"`: "\uFFFD", "\"\xff\"": "\uFFFD",
	} {
		got, err := Unquote([]byte(in))
		if err != nil || got != want {
			t.Errorf("Unquote(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Unquote([]byte(`12`)); err == nil {
		t.Error("Unquote accepted a number")
	}
}

func TestNoAllocs(t *testing.T) {
	body := []byte(`{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4}}`)
	n := testing.AllocsPerRun(100, func() {
		it := Members(body, Strict)
		for it.Next() {
			switch it.KeyString() {
			case "total_tokens":
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	})
	if n != 0 {
		t.Errorf("iterating allocates %v times", n)
	}
}

func TestPlain8(t *testing.T) {
	for c := range 256 {
		w := bytes.Repeat([]byte{'a'}, 8)
		for pos := range 8 {
			w[pos] = byte(c)
			special := c == '"' || c == '\\' || c < 0x20
			word := uint64(0)
			for i := 7; i >= 0; i-- {
				word = word<<8 | uint64(w[i])
			}
			if plain8(word) == special {
				t.Fatalf("plain8 wrong for byte %#x at %d", c, pos)
			}
			w[pos] = 'a'
		}
	}
}

// FuzzScan compares both modes with encoding/json: Strict accepts exactly
// what json.Valid accepts; Fast accepts everything json.Valid accepts, and
// anything else it accepts is explained by what it does not check (the
// inside of strings). Iterating over an object's members agrees with
// Valid, and the members' spans tile the object.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,{"b":null}],"c":-0.5e+3}`, `{"":[{""}]}`, `{"a":01}`, `{"a":[1,]}`, `{"a":1.}`, `{"a":"\u00zz"}`,
		`{"a":"x` + "\n" + `"}`, `["a",1,true]`, `"\ud800"`, ` {"a":"\\\"","b":"\\"} `, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		strict := Valid(b, Strict) == nil
		fast := Valid(b, Fast) == nil
		if strict != valid {
			t.Fatalf("Valid(%q, Strict) = %v, json.Valid %v", b, Valid(b, Strict), valid)
		}
		if valid && !fast {
			t.Fatalf("Valid(%q, Fast) refused valid JSON: %v", b, Valid(b, Fast))
		}
		if fast && !valid && !bytes.ContainsAny(b, "\\") && !hasControl(b) && utf8.Valid(b) {
			t.Fatalf("Valid(%q, Fast) accepted invalid JSON", b)
		}
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		for _, m := range []Mode{Strict, Fast} {
			open := byte('{')
			it := Members(b, m)
			if len(trimmed) > 0 && trimmed[0] == '[' {
				open, it = '[', Elements(b, m)
			}
			ok := Valid(b, m) == nil && len(trimmed) > 0 && trimmed[0] == open
			var spans [][2]int
			for it.Next() {
				s, e := it.Span()
				spans = append(spans, [2]int{s, e})
			}
			if (it.Err() == nil) != ok {
				t.Fatalf("iterating %q (mode %d): err %v, Valid %v", b, m, it.Err(), Valid(b, m))
			}
			if !ok {
				continue
			}
			// Between the members there is only white space and commas,
			// around them the brackets.
			prev := it.Open() + 1
			for _, sp := range spans {
				if g := bytes.Trim(b[prev:sp[0]], " \t\r\n,"); len(g) != 0 {
					t.Fatalf("%q: bytes %q between members", b, g)
				}
				prev = sp[1]
			}
			if g := bytes.Trim(b[prev:], " \t\r\n,]}"); len(g) != 0 {
				t.Fatalf("%q: bytes %q after the last member", b, g)
			}
		}
	})
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// BenchmarkScan compares the modes with encoding/json on a chat body with
// a 1 MiB base64 image, and on a 1 KiB chat body.
func BenchmarkScan(b *testing.B) {
	img := bytes.Repeat([]byte("QUJDRA"), 1<<20/6)
	big := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + string(img) + `"}}]}],"stream":true}`)
	small := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant that answers briefly and precisely."},` +
		`{"role":"user","content":"What is the capital of France? Please answer in one word, and then explain in two sentences why it became the capital."}],` +
		`"temperature":0.2,"max_tokens":256,"stream_options":{"include_usage":true},"metadata":{"user":"u-123","tags":["a","b"]},` +
		`"tools":[{"type":"function","function":{"name":"lookup","description":"Look a city up","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}`)
	for _, body := range []struct {
		name string
		b    []byte
	}{{"image-1MiB", big}, {"chat-1KiB", small}} {
		for _, m := range []struct {
			name string
			m    Mode
		}{{"strict", Strict}, {"fast", Fast}} {
			b.Run(body.name+"/"+m.name, func(b *testing.B) {
				b.SetBytes(int64(len(body.b)))
				b.ReportAllocs()
				for b.Loop() {
					it := Members(body.b, m.m)
					for it.Next() {
					}
					if it.Err() != nil {
						b.Fatal(it.Err())
					}
				}
			})
		}
		b.Run(body.name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(body.b) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
