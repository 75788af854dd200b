package openai

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestParseModel(t *testing.T) {
	tests := []struct {
		model    string
		custom   bool
		mode     mode
		upstream string
		wantErr  bool
	}{
		{"gpt-4o", false, modeOpenAI, "gpt-4o", false},
		{"openai/gpt-4o", false, modeOpenAI, "gpt-4o", false},
		{"ft:gpt-4o-2024-05-13:org::id", false, modeOpenAI, "ft:gpt-4o-2024-05-13:org::id", false},
		{"openai/ft:gpt-4o-2024-05-13:org::id", false, modeOpenAI, "ft:gpt-4o-2024-05-13:org::id", false},
		{"azure/my-dep", true, modeAzure, "my-dep", false},
		{"azure/a/b", true, 0, "", true},
		{"text-completion-openai/gpt-3.5-turbo-instruct", false, modeTextCompletion, "gpt-3.5-turbo-instruct", false},
		{"openai/responses/o3", false, modeResponses, "o3", false},
		{"responses/gpt-5", false, modeResponses, "gpt-5", false},
		{"hosted_vllm/meta-llama/Llama-3-8B", true, modeOpenAI, "meta-llama/Llama-3-8B", false},
		{"together_ai/qwen", true, modeOpenAI, "qwen", false},
		{"openai/org/model", false, modeOpenAI, "org/model", false},
		{"hosted_vllm/llama", false, 0, "", true}, // needs a base URL
		{"", false, 0, "", true},
		{"openai/", false, 0, "", true},
		{"azure/", true, 0, "", true},
	}
	for _, tt := range tests {
		r, err := parseModel(tt.model, tt.custom)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseModel(%q) error %v, want error %v", tt.model, err, tt.wantErr)
			continue
		}
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "Model" {
				t.Errorf("parseModel(%q) error %v is not a ConfigError on Model", tt.model, err)
			}
			continue
		}
		if r.mode != tt.mode || r.upstream != tt.upstream {
			t.Errorf("parseModel(%q) = %v %q, want %v %q", tt.model, r.mode, r.upstream, tt.mode, tt.upstream)
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OPENAI_API_KEY", "")
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"empty model", Config{}, "Model"},
		{"azure without base", Config{Model: "azure/d", APIVersion: "2024-10-21"}, "BaseURL"},
		{"azure without version", Config{Model: "azure/d", BaseURL: "https://x.openai.azure.com"}, "APIVersion"},
		{"bad scheme", Config{Model: "gpt-4o", BaseURL: "ftp://x"}, "BaseURL"},
		{"no host", Config{Model: "gpt-4o", BaseURL: "http://"}, "BaseURL"},
		{"unparsable", Config{Model: "gpt-4o", BaseURL: "http://x y:%%"}, "BaseURL"},
		{"prefix without base", Config{Model: "hosted_vllm/x"}, "Model"},
		{"negative timeout", Config{Model: "gpt-4o", APIKey: "k", Timeout: -1}, "Timeout"},
		{"negative stream timeout", Config{Model: "gpt-4o", APIKey: "k", StreamTimeout: -1}, "StreamTimeout"},
		{"api.openai.com without a key", Config{Model: "gpt-4o"}, "APIKey"},
		{"header name with a space", Config{Model: "gpt-4o", APIKey: "k", ExtraHeaders: http.Header{"AI-Resource Group": {"g"}}}, "ExtraHeaders"},
		{"header value with a newline", Config{Model: "gpt-4o", APIKey: "k", ExtraHeaders: http.Header{"X-A": {"a\r\nX-Injected: 1"}}}, "ExtraHeaders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("New error %v, want a ConfigError on %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "openai: Config."+tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestNewBaseURLFromEnv(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "http://proxy.internal:4000/v1/")
	c, err := New(Config{Model: "hosted_vllm/llama"}) // a prefix is fine: the env names a custom server
	if err != nil {
		t.Fatal(err)
	}
	if got := c.urls[1]; got != "http://proxy.internal:4000/v1/chat/completions" {
		t.Errorf("chat URL %q", got)
	}
	t.Setenv("OPENAI_BASE_URL", "")
	c, err = New(Config{Model: "gpt-4o", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.urls[1]; got != DefaultBaseURL+"/chat/completions" {
		t.Errorf("default chat URL %q", got)
	}
	t.Setenv("OPENAI_BASE_URL", "not a url")
	if _, err := New(Config{Model: "gpt-4o", APIKey: "k"}); err == nil || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
		t.Errorf("bad OPENAI_BASE_URL: error %v", err)
	}
}

func TestAzureURLs(t *testing.T) {
	for _, base := range []string{"https://r.openai.azure.com", "https://r.openai.azure.com/", "https://r.openai.azure.com/openai"} {
		c, err := New(Config{Model: "azure/my dep", BaseURL: base, APIVersion: "2024-10-21", APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{
			1: "https://r.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21",
			3: "https://r.openai.azure.com/openai/deployments/my%20dep/embeddings?api-version=2024-10-21",
			4: "https://r.openai.azure.com/openai/responses?api-version=2024-10-21",
			5: "https://r.openai.azure.com/openai/deployments/my%20dep/audio/transcriptions?api-version=2024-10-21",
		}
		for ep, w := range want {
			if c.urls[ep] != w {
				t.Errorf("base %q endpoint %d: %q, want %q", base, ep, c.urls[ep], w)
			}
		}
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	key := "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789SECRET"
	cfg := Config{
		Model: "gpt-4o", APIKey: key, BaseURL: "https://user:pw@example.com/v1?key=qs-secret",
		ExtraHeaders: http.Header{"X-Api-Key": {"hdr-secret"}, "X-Trace": {"visible"}},
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("deployment", "cfg", cfg)
	for name, s := range map[string]string{
		"String": cfg.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "slog": logged.String(),
	} {
		for _, secret := range []string{"SECRET", "pw@", "qs-secret", "hdr-secret"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %s", name, secret, s)
			}
		}
		if !strings.Contains(s, "gpt-4o") {
			t.Errorf("%s lost the model: %s", name, s)
		}
	}
	if !strings.Contains(cfg.String(), "sk-...CRET") || !strings.Contains(cfg.String(), "visible") {
		t.Errorf("String = %s", cfg.String())
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.String(), "SECRET") || strings.Contains(fmt.Sprintf("%v %#v", c, c), "SECRET") {
		t.Error("Client.String shows the key")
	}
}

// TestEnvDefaults pins the precedence of a deployment's own fields over the
// OPENAI_* environment, and that the environment's key goes only to
// OpenAI's own models, never to another provider's server.
func TestEnvDefaults(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OPENAI_API_KEY", "sk-env")
	t.Setenv("OPENAI_ORGANIZATION", "org-env")
	t.Setenv("OPENAI_ORG_ID", "org-sdk")
	t.Setenv("OPENAI_PROJECT", "")
	t.Setenv("OPENAI_PROJECT_ID", "proj-sdk")
	tests := []struct {
		name                    string
		cfg                     Config
		auth, apiKey, org, proj string
	}{
		{"env fills a bare model", Config{Model: "gpt-4o"}, "Bearer sk-env", "", "org-env", "proj-sdk"},
		{"env fills openai/ behind a proxy", Config{Model: "openai/gpt-4o", BaseURL: "http://proxy:4000/v1"}, "Bearer sk-env", "", "org-env", "proj-sdk"},
		{"env fills responses/", Config{Model: "responses/o3"}, "Bearer sk-env", "", "org-env", "proj-sdk"},
		{"fields win", Config{Model: "gpt-4o", APIKey: "sk-own", Organization: "org-own", Project: "proj-own"}, "Bearer sk-own", "", "org-own", "proj-own"},
		{"an Authorization extra header keeps the env key out", Config{Model: "gpt-4o", ExtraHeaders: http.Header{"Authorization": {"Bearer custom"}}}, "Bearer custom", "", "org-env", "proj-sdk"},
		{"another provider's server gets nothing", Config{Model: "hosted_vllm/llama", BaseURL: "http://vllm:8000/v1"}, "", "", "", ""},
		{"Azure gets nothing from OPENAI_*", Config{Model: "azure/d", BaseURL: "https://r.openai.azure.com", APIVersion: "2024-10-21"}, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []struct{ name, want string }{
				{"Authorization", tt.auth}, {"Api-Key", tt.apiKey},
				{"OpenAI-Organization", tt.org}, {"OpenAI-Project", tt.proj},
			} {
				if got := c.header.Get(h.name); got != h.want {
					t.Errorf("%s = %q, want %q", h.name, got, h.want)
				}
			}
		})
	}
	if s := fmt.Sprint(mustNew(t, Config{Model: "gpt-4o"})); strings.Contains(s, "sk-env") {
		t.Errorf("the key from the environment leaks in %s", s)
	}
}

func mustNew(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
