package openaitest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// continuationBody is a chat request whose last message is the
// assistant's partial answer.
func continuationBody(user, partial string, extra map[string]any) string {
	m := map[string]any{
		"model": "m",
		"messages": []any{
			map[string]any{"role": "user", "content": user},
			map[string]any{"role": "assistant", "content": partial, "prefix": true},
		},
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestChatContinuation(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	tests := []struct {
		name, partial, want string
	}{
		{"the rest of the reply", "echo: one two", " three four"},
		{"a partial that does not begin the reply gets it whole", "something else", "echo: one two three four"},
		{"the whole reply leaves nothing", "echo: one two three four", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, srv, "/chat/completions", "k", continuationBody("one two three four", tt.partial, nil))
			if got := path(res.json(t), "choices", 0, "message", "content"); got != tt.want {
				t.Errorf("content %q, want %q", got, tt.want)
			}
			s := stream(t, srv, chatURL(srv), continuationBody("one two three four", tt.partial, map[string]any{"stream": true}), header("Authorization", "Bearer k"))
			var text strings.Builder
			for _, o := range s.objects(t) {
				if c, ok := path(o, "choices", 0, "delta", "content").(string); ok {
					text.WriteString(c)
				}
			}
			if text.String() != tt.want {
				t.Errorf("streamed %q, want %q", text.String(), tt.want)
			}
		})
	}
}

func TestStreamStall(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamStall, AfterChunks: 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL(srv), strings.NewReader(chatBody("m", "one two three", map[string]any{"stream": true})))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer k")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	events := 0
	for events < 2 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	if events != 2 {
		t.Fatalf("%d events before the stall, want 2 (err %v)", events, sc.Err())
	}
	if n := srv.Stats().InFlight; n != 1 {
		t.Errorf("in flight %d: a stalled stream stays open", n)
	}
	cancel() // the client gives up, as its stream timeout would
	waitInFlight(t, srv, 0)
	if sc.Scan() && strings.HasPrefix(sc.Text(), "data: ") {
		t.Errorf("data after the stall: %q", sc.Text())
	}
	if got := openaitest.FaultStreamStall.String(); got != "stream_stall" {
		t.Errorf("name %q", got)
	}
}
