package openaitest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestAzure(t *testing.T) {
	clk := newClock()
	srv := openaitest.NewServer(openaitest.WithClock(clk.Now), openaitest.WithKey("az-key", openaitest.KeyConfig{RPM: 2, TPM: 100000}))
	defer srv.Close()
	dep := srv.RootURL + "/openai/deployments/my-gpt4o"
	apiKey := header("Api-Key", "az-key")
	noModel := `{"messages":[{"role":"user","content":"hi"}]}`

	r := send(t, srv, http.MethodPost, dep+"/chat/completions?api-version=2024-10-21", noModel, apiKey)
	m := r.json(t)
	if r.status != 200 || m["model"] != "my-gpt4o" || path(m, "choices", 0, "message", "content") != "echo: hi" || m["prompt_filter_results"] == nil {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	// Azure sends only the remaining counts, plus its own request id.
	if r.header.Get("X-Ratelimit-Remaining-Requests") != "1" || r.header.Get("X-Ratelimit-Remaining-Tokens") == "" ||
		r.header.Get("X-Ratelimit-Limit-Requests") != "" || r.header.Get("X-Ratelimit-Reset-Requests") != "" || r.header.Get("Apim-Request-Id") == "" {
		t.Errorf("headers %v", r.header)
	}
	last, _ := srv.LastRequest()
	if !last.Azure || last.Deployment != "my-gpt4o" || last.Key != "az-key" || last.RawQuery != "api-version=2024-10-21" {
		t.Errorf("recorded %+v", last)
	}

	r = send(t, srv, http.MethodPost, dep+"/embeddings?api-version=2024-10-21", `{"input":"x"}`, apiKey)
	if r.status != 200 || len(path(r.json(t), "data", 0, "embedding").([]any)) != openaitest.DefaultDimensions {
		t.Errorf("embeddings: %d %s", r.status, r.body)
	}
	r = send(t, srv, http.MethodPost, dep+"/chat/completions?api-version=2024-10-21", noModel, apiKey)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.header.Get("Retry-After-Ms") == "" || r.errorOf(t)["code"] != "429" {
		t.Errorf("limit: %d %v %s", r.status, r.header, r.body)
	}
	if srv.Stats().RateLimited != 1 {
		t.Errorf("azure 429 not counted: %+v", srv.Stats())
	}

	tests := []struct {
		name     string
		url      string
		h        http.Header
		want     int
		wantCode string
	}{
		{"no api-version", dep + "/chat/completions", apiKey, 404, "404"},
		{"empty api-version", dep + "/chat/completions?api-version=", apiKey, 404, "404"},
		{"bearer instead of api-key", dep + "/chat/completions?api-version=1", header("Authorization", "Bearer az-key"), 401, "401"},
		{"wrong api-key", dep + "/chat/completions?api-version=1", header("Api-Key", "nope"), 401, "401"},
		{"v1 path needs no api-version", srv.RootURL + "/openai/v1/chat/completions", apiKey, 200, ""},
		{"responses", srv.RootURL + "/openai/responses?api-version=2025-04-01-preview", apiKey, 200, ""},
		{"responses without api-version", srv.RootURL + "/openai/responses", apiKey, 404, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Step(time.Minute)
			b := `{"model":"m","messages":[{"role":"user","content":"hi"}],"input":"hi"}`
			r := send(t, srv, http.MethodPost, tt.url, b, tt.h)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.wantCode != "" {
				e := r.errorOf(t)
				if e["code"] != tt.wantCode || e["message"] == "" {
					t.Errorf("error %v", e)
				}
			}
		})
	}
}

func TestAzureFaultsAndStream(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	url := srv.RootURL + "/openai/deployments/d/chat/completions?api-version=2024-10-21"
	h := header("Api-Key", "k")

	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultContentPolicy, Count: 1})
	r := send(t, srv, http.MethodPost, url, chatBody("m", "x", nil), h)
	if e := r.errorOf(t); r.status != 400 || e["code"] != "content_filter" || path(e, "innererror", "code") != "ResponsibleAIPolicyViolation" {
		t.Errorf("content policy: %d %s", r.status, r.body)
	}

	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultNotFound, Count: 1})
	if r := send(t, srv, http.MethodPost, url, chatBody("m", "x", nil), h); r.status != 404 || r.errorOf(t)["code"] != "DeploymentNotFound" {
		t.Errorf("not found: %d %s", r.status, r.body)
	}

	// Azure's stream starts with an event that has no choices.
	s := stream(t, srv, url, chatBody("m", "a b", map[string]any{"stream": true}), h)
	objs := s.objects(t)
	if len(path(objs[0], "choices").([]any)) != 0 || objs[0]["prompt_filter_results"] == nil {
		t.Errorf("first event %v", objs[0])
	}
	content, finish, _, _ := chunkContent(t, objs[1:])
	if content != "echo: a b" || finish != "stop" {
		t.Errorf("content %q finish %q", content, finish)
	}
	if !strings.HasPrefix(s.header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("content-type %q", s.header.Get("Content-Type"))
	}
}

func TestAzureModels(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithModels("dep-a"))
	defer srv.Close()
	h := header("Api-Key", "k")
	if r := send(t, srv, http.MethodPost, srv.RootURL+"/openai/deployments/dep-a/chat/completions?api-version=1", chatBody("whatever", "x", nil), h); r.status != 200 {
		t.Errorf("known deployment: %d %s", r.status, r.body)
	}
	if r := send(t, srv, http.MethodPost, srv.RootURL+"/openai/deployments/dep-b/chat/completions?api-version=1", chatBody("dep-a", "x", nil), h); r.status != 404 || r.errorOf(t)["code"] != "DeploymentNotFound" {
		t.Errorf("unknown deployment: %d %s", r.status, r.body)
	}
}
