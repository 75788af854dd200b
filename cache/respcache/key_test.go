package respcache

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// key is the cache key Prepare gives a request.
func key(modelGroup, endpoint string, body []byte) (string, error) {
	p, err := Prepare(modelGroup, endpoint, body)
	return p.Key, err
}

func TestKeyNormalisation(t *testing.T) {
	base := `{"model":"gpt-4o-2024","messages":[{"role":"user","content":"hi"}],"temperature":1}`
	k0, err := key("gpt-4o", "chat", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	same := []struct{ name, body string }{
		{"whitespace and key order", "{ \"temperature\" : 1,\n \"messages\":[{\"content\":\"hi\", \"role\":\"user\"}], \"model\":\"gpt-4o-2024\"}"},
		{"deployment model replaced by the group", `{"model":"azure/other","messages":[{"role":"user","content":"hi"}],"temperature":1}`},
		{"stream fields", `{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"temperature":1}`},
		{"user and metadata", `{"model":"x","user":"u-1","metadata":{"tags":["a"]},"messages":[{"role":"user","content":"hi"}],"temperature":1}`},
		{"cache control without namespace", `{"model":"x","cache":{"no-store":true,"ttl":5},"messages":[{"role":"user","content":"hi"}],"temperature":1}`},
		{"number spelling", `{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1.0}`},
		{"exponent", `{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1e0}`},
		{"escaped string", `{"model":"x","messages":[{"role":"user","content":"\u0068i"}],"temperature":1}`},
	}
	for _, tt := range same {
		k, err := key("gpt-4o", "chat", []byte(tt.body))
		if err != nil || k != k0 {
			t.Errorf("%s: key %s (%v), want the base key", tt.name, k, err)
		}
	}
	differ := []struct{ name, group, endpoint, body string }{
		{"other group", "gpt-4o-mini", "chat", base},
		{"other endpoint", "gpt-4o", "completions", base},
		{"other content", "gpt-4o", "chat", `{"model":"x","messages":[{"role":"user","content":"hi!"}],"temperature":1}`},
		{"other temperature", "gpt-4o", "chat", `{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":1.5}`},
		{"array order", "gpt-4o", "chat", `{"model":"x","messages":[{"content":"hi","role":"user"},{"role":"user","content":"x"}],"temperature":1}`},
		{"namespace", "gpt-4o", "chat", `{"model":"x","cache":{"namespace":"team-a"},"messages":[{"role":"user","content":"hi"}],"temperature":1}`},
		{"tools", "gpt-4o", "chat", `{"model":"x","tools":[],"messages":[{"role":"user","content":"hi"}],"temperature":1}`},
	}
	for _, tt := range differ {
		k, err := key(tt.group, tt.endpoint, []byte(tt.body))
		if err != nil || k == k0 {
			t.Errorf("%s: key %s (%v), want a different key", tt.name, k, err)
		}
	}
	if len(k0) != 64 {
		t.Errorf("key %q is not a hex SHA-256", k0)
	}
}

func TestKeyRejects(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{"a":1} {}`, `{"a":`, `null`} {
		_, err := key("g", "chat", []byte(body))
		var ke *keyError
		if !errors.As(err, &ke) {
			t.Errorf("%q: err %v, want *keyError", body, err)
		}
	}
}

// TestPrepareControl checks that Prepare reads the "cache" object and
// removes it from the body sent upstream.
func TestPrepareControl(t *testing.T) {
	tests := []struct {
		body     string
		want     Control
		wantBody string // "" means unchanged
		wantErr  string // field of the ControlError
	}{
		{`{"model":"m"}`, Control{}, "", ""},
		{`{"model":"m","messages":[{"content":"about \"cache\""}]}`, Control{}, "", ""},
		{`{"model":"m","cache":{"no-cache":true}}`, Control{NoCache: true}, `{"model":"m"}`, ""},
		{`{"cache":{"no-store":true,"ttl":600,"s-maxage":"60","namespace":"a"},"b":[1, 2]}`,
			Control{NoStore: true, TTL: 10 * time.Minute, MaxAge: time.Minute, Namespace: "a"}, `{"b":[1,2]}`, ""},
		{`{"cache":{"ttl":0.5,"unknown":1}}`, Control{TTL: 500 * time.Millisecond}, `{}`, ""},
		{`{"cache":{"use-cache":true},"a":1}`, Control{UseCache: true}, `{"a":1}`, ""},
		{`{"cache":{"use-cache":1}}`, Control{}, "", "use-cache"},
		{`{"cache":null,"a":1}`, Control{}, `{"a":1}`, ""},
		{`{"cache":{"ttl":-1}}`, Control{}, "", "ttl"},
		{`{"cache":{"ttl":"NaN"}}`, Control{}, "", "ttl"},
		{`{"cache":{"no-cache":"yes"}}`, Control{}, "", "no-cache"},
		{`{"cache":{"namespace":3}}`, Control{}, "", "namespace"},
		{`{"cache":[]}`, Control{}, "", "cache"},
	}
	for _, tt := range tests {
		p, err := Prepare("g", "chat", []byte(tt.body))
		c, body := p.Control, p.Body
		if tt.wantErr != "" {
			var ce *ControlError
			if !errors.As(err, &ce) || ce.Field != tt.wantErr {
				t.Errorf("%s: err %v, want ControlError on %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.body, c, err, tt.want)
			continue
		}
		want := tt.wantBody
		if want == "" {
			want = tt.body
		}
		if string(body) != want {
			t.Errorf("%s: body %s, want %s", tt.body, body, want)
		}
	}
}

func TestControlFresh(t *testing.T) {
	now := t0
	tests := []struct {
		c      Control
		stored time.Time
		want   bool
	}{
		{Control{}, now.Add(-time.Hour), true},
		{Control{NoCache: true}, now, false},
		{Control{MaxAge: time.Minute}, now.Add(-time.Minute), true},
		{Control{MaxAge: time.Minute}, now.Add(-61 * time.Second), false},
	}
	for _, tt := range tests {
		if got := tt.c.Fresh(tt.stored, now); got != tt.want {
			t.Errorf("%+v stored %v ago: %v", tt.c, now.Sub(tt.stored), got)
		}
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.7,"stream":true}`,
		`{"a":[1,2.50,-0,1e400,{"b":null,"c":true}],"cache":{"namespace":"x","ttl":"5"}}`,
		`{"input":["x","y"],"dimensions":256}`, `[]`, `{`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := Prepare("g", "chat", body)
		if err != nil {
			return
		}
		// Re-encoding the body (other whitespace, other key order) keeps
		// the key.
		var v any
		if json.Unmarshal(body, &v) != nil {
			return // accepted by the decoder with UseNumber only
		}
		re, _ := json.MarshalIndent(v, "", "  ")
		p2, err := Prepare("g", "chat", re)
		if err != nil {
			t.Fatalf("re-encoded body rejected: %v\n%s", err, re)
		}
		if p2.Key != p.Key && !lossyNumbers(body) {
			t.Fatalf("key changed after re-encoding:\n%s\n%s", body, re)
		}
	})
}

// lossyNumbers reports whether re-encoding through float64 can change a
// number of body (large integers, huge exponents).
func lossyNumbers(body []byte) bool {
	var v any
	_ = json.Unmarshal(body, &v)
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case float64:
			return v > 1<<53 || v < -(1<<53)
		}
		return false
	}
	return walk(v)
}
