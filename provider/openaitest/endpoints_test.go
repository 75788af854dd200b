package openaitest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestCompletions(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	tests := []struct{ name, prompt, want string }{
		{"string", `"say hi"`, "echo: say hi"},
		{"list", `["first","second"]`, "echo: first"},
		{"tokens", `[1,2,3]`, "echo: <3 tokens>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, "/completions", "k", `{"model":"gpt-3.5-turbo-instruct","prompt":`+tt.prompt+`}`)
			m := r.json(t)
			if r.status != 200 || m["object"] != "text_completion" || path(m, "choices", 0, "text") != tt.want ||
				path(m, "choices", 0, "finish_reason") != "stop" || m["model"] != "gpt-3.5-turbo-instruct" {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		s := stream(t, srv, srv.URL+"/completions", `{"model":"m","prompt":"a b c","stream":true,"stream_options":{"include_usage":true}}`, header("Authorization", "Bearer k"))
		var text, finish string
		var usage any
		for _, o := range s.objects(t) {
			if o["object"] != "text_completion" {
				t.Fatalf("object %v", o["object"])
			}
			if s, ok := path(o, "choices", 0, "text").(string); ok {
				text += s
			}
			if f, ok := path(o, "choices", 0, "finish_reason").(string); ok {
				finish = f
			}
			if u := o["usage"]; u != nil {
				usage = u
			}
		}
		if text != "echo: a b c" || finish != "stop" || usage == nil || s.events[len(s.events)-1].data != "[DONE]" {
			t.Errorf("text %q finish %q usage %v", text, finish, usage)
		}
	})
	t.Run("no prompt", func(t *testing.T) {
		if r := post(t, srv, "/completions", "k", `{"model":"m"}`); r.status != 400 {
			t.Errorf("status %d", r.status)
		}
	})
}

func TestEmbeddings(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	tests := []struct {
		name   string
		body   string
		inputs []string // for vector comparison; nil to skip
		n      int
		dims   int
	}{
		{"string", `{"model":"e","input":"hello"}`, []string{"hello"}, 1, 8},
		{"list", `{"model":"e","input":["a","b","c"]}`, []string{"a", "b", "c"}, 3, 8},
		{"dimensions", `{"model":"e","input":"hello","dimensions":5}`, []string{"hello"}, 1, 5},
		{"tokens", `{"model":"e","input":[1,2,3]}`, nil, 1, 8},
		{"token lists", `{"model":"e","input":[[1,2],[3]]}`, nil, 2, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, "/embeddings", "k", tt.body)
			m := r.json(t)
			data, _ := m["data"].([]any)
			if r.status != 200 || m["object"] != "list" || len(data) != tt.n || m["model"] != "e" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			for i, d := range data {
				vec, _ := path(d, "embedding").([]any)
				if path(d, "object") != "embedding" || path(d, "index") != float64(i) || len(vec) != tt.dims {
					t.Fatalf("item %d: %v", i, d)
				}
				var norm float64
				for j, x := range vec {
					norm += x.(float64) * x.(float64)
					if tt.inputs != nil && float32(x.(float64)) != openaitest.Vector(tt.inputs[i], tt.dims)[j] {
						t.Fatalf("item %d value %d = %v, want Vector's %v", i, j, x, openaitest.Vector(tt.inputs[i], tt.dims)[j])
					}
				}
				if math.Abs(norm-1) > 1e-5 {
					t.Errorf("item %d norm² %v, want 1", i, norm)
				}
			}
			if path(m, "usage", "prompt_tokens").(float64) <= 0 {
				t.Errorf("usage %v", m["usage"])
			}
		})
	}
	t.Run("distinct inputs differ", func(t *testing.T) {
		a, b := openaitest.Vector("a", 8), openaitest.Vector("b", 8)
		if a[0] == b[0] && a[1] == b[1] {
			t.Errorf("vectors of different inputs are equal: %v %v", a, b)
		}
	})
	t.Run("base64", func(t *testing.T) {
		r := post(t, srv, "/embeddings", "k", `{"model":"e","input":"hello","encoding_format":"base64","dimensions":4}`)
		s, _ := path(r.json(t), "data", 0, "embedding").(string)
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != 16 {
			t.Fatalf("embedding %q: %v", s, err)
		}
		want := openaitest.Vector("hello", 4)
		for i := range want {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want[i] {
				t.Errorf("value %d = %v, want %v", i, got, want[i])
			}
		}
	})
	for name, body := range map[string]string{
		"empty string":   `{"model":"e","input":""}`,
		"empty list":     `{"model":"e","input":[]}`,
		"no input":       `{"model":"e"}`,
		"object input":   `{"model":"e","input":{}}`,
		"dims too large": `{"model":"e","input":"x","dimensions":100000}`,
		"dims zero":      `{"model":"e","input":"x","dimensions":0}`,
		"bad encoding":   `{"model":"e","input":"x","encoding_format":"hex"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if r := post(t, srv, "/embeddings", "k", body); r.status != 400 {
				t.Errorf("status %d: %s", r.status, r.body)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	t.Run("with summary", func(t *testing.T) {
		r := post(t, srv, "/responses", "k", `{"model":"o4-mini","input":"why?","instructions":"be kind","reasoning":{"effort":"low","summary":"auto"}}`)
		m := r.json(t)
		if r.status != 200 || m["object"] != "response" || m["status"] != "completed" || m["model"] != "o4-mini" || m["instructions"] != "be kind" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
		if id, _ := m["id"].(string); !strings.HasPrefix(id, "resp_") {
			t.Errorf("id %q", id)
		}
		if path(m, "output", 0, "type") != "reasoning" || path(m, "output", 0, "summary", 0, "text") != "Thinking about: why?" {
			t.Errorf("reasoning item %v", path(m, "output", 0))
		}
		if path(m, "output", 1, "type") != "message" || path(m, "output", 1, "content", 0, "type") != "output_text" ||
			path(m, "output", 1, "content", 0, "text") != "echo: why?" {
			t.Errorf("message item %v", path(m, "output", 1))
		}
		if rt := path(m, "usage", "output_tokens_details", "reasoning_tokens"); rt != float64(len("Thinking about: why?")+3)/4 && rt != float64((len("Thinking about: why?")+3)/4) {
			t.Errorf("reasoning_tokens %v", rt)
		}
		in, out, total := path(m, "usage", "input_tokens").(float64), path(m, "usage", "output_tokens").(float64), path(m, "usage", "total_tokens").(float64)
		if in <= 0 || out <= 0 || total != in+out {
			t.Errorf("usage %v", m["usage"])
		}
	})
	t.Run("no summary", func(t *testing.T) {
		m := post(t, srv, "/responses", "k", `{"model":"o4-mini","input":[{"role":"user","content":[{"type":"input_text","text":"q"}]}]}`).json(t)
		if s, _ := path(m, "output", 0, "summary").([]any); s == nil || len(s) != 0 {
			t.Errorf("summary %v, want []", path(m, "output", 0, "summary"))
		}
		if path(m, "output", 1, "content", 0, "text") != "echo: q" {
			t.Errorf("text %v", path(m, "output", 1, "content", 0, "text"))
		}
	})
	t.Run("tool call", func(t *testing.T) {
		m := post(t, srv, "/responses", "k", `{"model":"m","input":"call tool","tools":[{"type":"function","name":"lookup"}]}`).json(t)
		if path(m, "output", 1, "type") != "function_call" || path(m, "output", 1, "name") != "lookup" {
			t.Errorf("output %v", m["output"])
		}
	})
	t.Run("max_output_tokens", func(t *testing.T) {
		m := post(t, srv, "/responses", "k", `{"model":"m","input":"long long long text","max_output_tokens":1}`).json(t)
		if m["status"] != "incomplete" || path(m, "incomplete_details", "reason") != "max_output_tokens" {
			t.Errorf("status %v details %v", m["status"], m["incomplete_details"])
		}
	})
	t.Run("stream", func(t *testing.T) {
		s := stream(t, srv, srv.URL+"/responses", `{"model":"o4-mini","input":"one two","stream":true,"reasoning":{"summary":"detailed"}}`, header("Authorization", "Bearer k"))
		if s.status != 200 || s.readErr != nil {
			t.Fatalf("status %d err %v", s.status, s.readErr)
		}
		var names []string
		var text, summary string
		var completed map[string]any
		for i, e := range s.events {
			o := s.objects(t)[i]
			if e.name == "" || o["type"] != e.name {
				t.Fatalf("event %d name %q type %v", i, e.name, o["type"])
			}
			if o["sequence_number"] != float64(i) {
				t.Errorf("event %d sequence_number %v", i, o["sequence_number"])
			}
			names = append(names, e.name)
			switch e.name {
			case "response.output_text.delta":
				text += o["delta"].(string)
			case "response.reasoning_summary_text.delta":
				summary += o["delta"].(string)
			case "response.completed":
				completed = o["response"].(map[string]any)
			}
		}
		if names[0] != "response.created" || names[1] != "response.in_progress" || names[len(names)-1] != "response.completed" {
			t.Errorf("event order %v", names)
		}
		for _, want := range []string{"response.output_item.added", "response.content_part.added", "response.output_text.done", "response.output_item.done", "response.reasoning_summary_text.done"} {
			if !strings.Contains(strings.Join(names, ","), want) {
				t.Errorf("no %s event in %v", want, names)
			}
		}
		if text != "echo: one two" || summary != "Thinking about: one two" {
			t.Errorf("text %q summary %q", text, summary)
		}
		if completed["status"] != "completed" || path(completed, "usage", "total_tokens") == nil {
			t.Errorf("completed response %v", completed)
		}
	})
}

// multipartBody builds a transcription upload; file is omitted when nil.
func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", "speech.mp3")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	return buf.String(), w.FormDataContentType()
}

func TestTranscriptions(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	audio := []byte("ID3 fake audio bytes")
	tests := []struct {
		name       string
		fields     map[string]string
		file       []byte
		ctype      string // overrides the multipart content type
		wantStatus int
		wantBody   string // exact body, or "" to check JSON text
		wantCT     string
	}{
		{name: "json", fields: map[string]string{"model": "whisper-1"}, file: audio, wantStatus: 200, wantCT: "application/json"},
		{name: "text", fields: map[string]string{"model": "whisper-1", "response_format": "text"}, file: audio, wantStatus: 200, wantBody: "transcript of speech.mp3 (20 bytes)\n", wantCT: "text/plain; charset=utf-8"},
		{name: "verbose_json", fields: map[string]string{"model": "whisper-1", "response_format": "verbose_json"}, file: audio, wantStatus: 200, wantCT: "application/json"},
		{name: "no file", fields: map[string]string{"model": "whisper-1"}, wantStatus: 400},
		{name: "no model", fields: map[string]string{"language": "en"}, file: audio, wantStatus: 400},
		{name: "not multipart", fields: map[string]string{"model": "whisper-1"}, file: audio, ctype: "application/json", wantStatus: 400},
		{name: "bad format", fields: map[string]string{"model": "whisper-1", "response_format": "mp4"}, file: audio, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.fields, tt.file)
			if tt.ctype != "" {
				ct = tt.ctype
			}
			r := send(t, srv, http.MethodPost, srv.URL+"/audio/transcriptions", body, header("Authorization", "Bearer k", "Content-Type", ct))
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := r.header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("content-type %q, want %q", got, tt.wantCT)
			}
			if tt.wantBody != "" {
				if string(r.body) != tt.wantBody {
					t.Errorf("body %q, want %q", r.body, tt.wantBody)
				}
				return
			}
			if got := r.json(t)["text"]; got != "transcript of speech.mp3 (20 bytes)" {
				t.Errorf("text %v", got)
			}
		})
	}
	t.Run("recorded model", func(t *testing.T) {
		last, _ := srv.LastRequest()
		if last.Endpoint != "transcriptions" || last.Model != "whisper-1" {
			t.Errorf("last request %+v", last)
		}
	})
}

func TestModels(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		srv := openaitest.NewServer()
		defer srv.Close()
		r := send(t, srv, http.MethodGet, srv.URL+"/models", "", header("Authorization", "Bearer k"))
		m := r.json(t)
		if r.status != 200 || m["object"] != "list" || len(m["data"].([]any)) == 0 || path(m, "data", 0, "object") != "model" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		// Without WithModels every model exists.
		if r := send(t, srv, http.MethodGet, srv.URL+"/models/anything", "", header("Authorization", "Bearer k")); r.json(t)["id"] != "anything" {
			t.Errorf("%s", r.body)
		}
	})
	t.Run("WithModels", func(t *testing.T) {
		srv := openaitest.NewServer(openaitest.WithModels("a", "b"))
		defer srv.Close()
		m := send(t, srv, http.MethodGet, srv.URL+"/models", "", header("Authorization", "Bearer k")).json(t)
		if path(m, "data", 0, "id") != "a" || path(m, "data", 1, "id") != "b" || path(m, "data", 2) != nil {
			t.Errorf("%v", m)
		}
		for _, tc := range []struct {
			name, method, url, body string
			want                    int
		}{
			{"get known", http.MethodGet, "/models/a", "", 200},
			{"get unknown", http.MethodGet, "/models/c", "", 404},
			{"chat known", http.MethodPost, "/chat/completions", chatBody("b", "x", nil), 200},
			{"chat unknown", http.MethodPost, "/chat/completions", chatBody("c", "x", nil), 404},
		} {
			r := send(t, srv, tc.method, srv.URL+tc.url, tc.body, header("Authorization", "Bearer k"))
			if r.status != tc.want {
				t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.want)
			}
			if tc.want == 404 {
				if code := r.errorOf(t)["code"]; code != "model_not_found" {
					t.Errorf("%s: code %v", tc.name, code)
				}
			}
		}
	})
}

func TestUnknownPaths(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/v1/nope"},
		{http.MethodGet, "/v1/chat/completions"},
		{http.MethodPost, "/v1/models"},
		{http.MethodPost, "/openai/deployments//chat/completions?api-version=1"},
		{http.MethodPost, "/"},
	} {
		r := send(t, srv, tc.method, srv.RootURL+tc.path, "{}", header("Authorization", "Bearer k"))
		if r.status != 404 || !strings.HasPrefix(r.errorOf(t)["message"].(string), "Invalid URL") && !strings.HasPrefix(tc.path, "/openai") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	// Without the /v1 prefix the same endpoints are served.
	r := send(t, srv, http.MethodPost, srv.RootURL+"/chat/completions", chatBody("m", "x", nil), header("Authorization", "Bearer k"))
	if r.status != 200 {
		t.Errorf("no /v1 prefix: %d %s", r.status, r.body)
	}
	if got := srv.Stats().Endpoints["unknown"]; got != 5 {
		t.Errorf("unknown endpoint count %d, want 5", got)
	}
}
