package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

func TestContinuationBody(t *testing.T) {
	const body = `{"model":"g", "messages": [{"role":"user","content":"hi"}] ,"max_tokens":10,"continue_final_message":false}`
	tests := []struct {
		name      string
		body      string
		partial   string
		delivered int
		conv      Continuation
		want      string
		wantErr   bool
	}{
		{"assistant", body, "Hel\"lo", 3, ContinuationAssistant,
			`{"model":"g","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hel\"lo"}],"max_tokens":7,"continue_final_message":false}`, false},
		{"prefix", body, "Hello", 3, ContinuationPrefix,
			`{"model":"g","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hello","prefix":true}],"max_tokens":7,"continue_final_message":false}`, false},
		{"continue_final_message replaces the caller's", body, "Hello", 30, ContinuationContinueFinalMessage,
			`{"model":"g","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hello"}],"max_tokens":1,"continue_final_message":true,"add_generation_prompt":false}`, false},
		{"nothing delivered: the request as it was", body, "", 0, ContinuationPrefix, body, false},
		{"no messages", `{"model":"g","prompt":"x"}`, "Hello", 1, ContinuationAssistant, "", true},
		{"messages not a list", `{"model":"g","messages":"x"}`, "Hello", 1, ContinuationAssistant, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := continuationBody([]byte(tt.body), tt.partial, tt.delivered, tt.conv)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tt.wantErr && string(got) != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			if !tt.wantErr && !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

func TestResumerObserve(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		ok     bool
		text   string
	}{
		{"text", []string{`{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, `{"id":"c1","choices":[{"index":0,"delta":{"content":"a\u00e9"},"finish_reason":null}]}`}, true, "aé"},
		{"tool call", []string{`{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x"}]}}]}`}, false, ""},
		{"empty tool calls are text", []string{`{"id":"c1","choices":[{"index":0,"delta":{"content":"a","tool_calls":[]}}]}`}, true, "a"},
		{"reasoning", []string{`{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`}, false, ""},
		{"second choice", []string{`{"id":"c1","choices":[{"index":1,"delta":{"content":"a"}}]}`}, false, ""},
		{"finished", []string{`{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`}, false, ""},
		{"azure filter results first", []string{`{"choices":[],"id":"","prompt_filter_results":[]}`, `{"id":"c1","choices":[{"index":0,"delta":{"content":"a"}}]}`}, true, "a"},
		{"garbage", []string{`{"id":`}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &resumer{ok: true}
			for _, c := range tt.chunks {
				rs.accept(provider.Event{Data: []byte(c)})
			}
			if rs.ok != tt.ok || (tt.ok && string(rs.content) != tt.text) {
				t.Errorf("ok %v text %q, want %v %q", rs.ok, rs.content, tt.ok, tt.text)
			}
			if tt.ok && string(rs.id) != `"c1"` {
				t.Errorf("id %s", rs.id)
			}
		})
	}
}

func TestResumerRewrite(t *testing.T) {
	rs := &resumer{ok: true, id: []byte(`"c1"`), created: []byte(`7`), model: []byte(`"gpt-4o"`), splice: true,
		prev: provider.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}}
	in := []string{
		`{"choices":[],"id":"","prompt_filter_results":[]}`,
		`{"id":"c2","created":9,"model":"gpt-4o-2024","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}`,
		`{"id":"c2","created":9,"model":"gpt-4o-2024","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}`,
		`{"id":"c2","created":9,"model":"gpt-4o-2024","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
		`{"id":"c2","created":9,"model":"gpt-4o-2024","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12}}`,
	}
	var got []string
	for _, c := range in {
		if rs.accept(provider.Event{Data: []byte(c)}) {
			got = append(got, string(rs.ev.Data))
		}
	}
	want := []string{
		`{"switchyard_resumed":true,"id":"c1","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}`,
		`{"id":"c1","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
		`{"id":"c1","created":7,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":3,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("spliced\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// chunkScript is a chat stream of n content chunks, as the fake upstream
// sends them.
func chunkScript(n int) []string {
	ev := []string{`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"g","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`}
	for i := range n {
		ev = append(ev, fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"g","choices":[{"index":0,"delta":{"content":" word%d"},"logprobs":null,"finish_reason":null}]}`, i))
	}
	return append(ev, `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"g","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
}

// BenchmarkStreamResume is the cost, per stream of 100 chunks, of
// mid-stream recovery: off (today's path), on for a stream that does not
// break (every chunk is read for its text), and a stream cut after 50
// chunks and resumed on another deployment (the resume's chunks
// rewritten).
func BenchmarkStreamResume(b *testing.B) {
	whole := chunkScript(100)
	for _, bc := range []struct {
		name string
		on   bool
		cut  bool
	}{{"off", false, false}, {"on", true, false}, {"resumed", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			fs := newFakes()
			r, err := New(Config{
				Deployments: []deployment.Config{dep("g", "a"), func() deployment.Config { d := dep("g", "b"); d.Order = 1; return d }()},
				Settings: Settings{StreamResume: StreamResume{Enabled: bc.on, MaxResumes: 1},
					Deployment: deployment.Settings{CooldownTime: new(time.Duration(0))}},
			}, WithClientFactory(fs.factory), WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			a := step{events: whole}
			if bc.cut {
				a = step{events: whole[:51], midErr: perr(provider.ClassConnection, 0)}
			}
			fs.get("a").setScript(a)
			fs.get("b").setScript(step{events: append(whole[:1:1], whole[51:]...)})
			req := chatReq("g")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				s, err := r.Stream(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for s.Next() {
					n++
				}
				if s.Err() != nil || n != len(whole) {
					b.Fatalf("%d events, err %v", n, s.Err())
				}
				_ = s.Close()
				fs.get("a").mu.Lock()
				fs.get("a").reqs, fs.get("a").streams = nil, nil
				fs.get("a").mu.Unlock()
				fs.get("b").mu.Lock()
				fs.get("b").reqs, fs.get("b").streams = nil, nil
				fs.get("b").mu.Unlock()
			}
		})
	}
}
