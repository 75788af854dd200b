package deployment_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/deployment"
)

const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789SECRET"

func TestConfigHidesKey(t *testing.T) {
	cfg := deployment.Config{
		ID: "gpt-4o-east", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: secret,
		BaseURL: "https://api.example.com/v1", RPM: 60, Order: 1,
		ExtraHeaders: http.Header{"X-Secret-Header": {"hidden-value"}},
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("added", "deployment", cfg)
	d, err := deployment.New(cfg, nil, deployment.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"String":              cfg.String(),
		"Sprintf %v":          fmt.Sprintf("%v", cfg),
		"Sprintf %+v pointer": fmt.Sprintf("%+v", &cfg),
		"Sprintf %#v":         fmt.Sprintf("%#v", cfg),
		"slog":                logged.String(),
		"Deployment":          d.String(),
		"DefaultID":           deployment.DefaultID(cfg),
	} {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "hidden-value") {
			t.Errorf("%s leaks the secret: %s", name, s)
		}
	}
	if s := cfg.String(); !strings.Contains(s, `api_key="sk-...CRET"`) || !strings.Contains(s, `model="openai/gpt-4o"`) {
		t.Errorf("String = %s, want the redacted key and the model", s)
	}
}

func TestRedactKey(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"", ""},
		{"short", "***"},
		{"sk-12345678901", "sk-...8901"},
	} {
		if got := deployment.RedactKey(tc.key); got != tc.want {
			t.Errorf("RedactKey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestDefaultID(t *testing.T) {
	a := deployment.Config{ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-a"}
	b := a
	b.APIKey = "sk-b"
	idA, idB := deployment.DefaultID(a), deployment.DefaultID(b)
	if idA != deployment.DefaultID(a) {
		t.Error("DefaultID is not stable")
	}
	if idA == idB {
		t.Errorf("keys sk-a and sk-b share the ID %s", idA)
	}
	if !strings.HasPrefix(idA, "gpt-4o-") {
		t.Errorf("DefaultID = %s, want the model name as prefix", idA)
	}
	d, err := deployment.New(a, nil, deployment.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != idA {
		t.Errorf("New set ID %q, want DefaultID %q", d.ID(), idA)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]deployment.Config{
		"no model":         {},
		"negative weight":  {Model: "m", Weight: -1},
		"negative rpm":     {Model: "m", RPM: -1},
		"negative tpm":     {Model: "m", TPM: -5},
		"negative cost":    {Model: "m", Info: deployment.ModelInfo{InputCostPerToken: -1}},
		"negative timeout": {Model: "m", Timeout: -1},
	} {
		if _, err := deployment.New(cfg, nil, deployment.Settings{}); err == nil || !strings.HasPrefix(err.Error(), "deployment: ") {
			t.Errorf("%s: err = %v, want a deployment error", name, err)
		}
	}
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := deployment.Config{Model: "m", Tags: []string{"a"}, ExtraHeaders: http.Header{"X-A": {"1"}}}
	d, err := deployment.New(cfg, nil, deployment.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tags[0] = "changed"
	cfg.ExtraHeaders.Set("X-A", "2")
	if d.Config().Tags[0] != "a" || d.Config().ExtraHeaders.Get("X-A") != "1" {
		t.Error("the deployment shares the caller's tags or headers")
	}
}

func TestModelInfoDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   deployment.Config
		check func(deployment.ModelInfo) bool
	}{
		{"known model filled", deployment.Config{Model: "openai/gpt-4o"}, func(i deployment.ModelInfo) bool {
			return i.MaxInputTokens >= 100_000 && i.InputCostPerToken > 0 && i.OutputCostPerToken > i.InputCostPerToken
		}},
		{"config wins field by field", deployment.Config{Model: "gpt-4o", Info: deployment.ModelInfo{MaxInputTokens: 1000}}, func(i deployment.ModelInfo) bool {
			return i.MaxInputTokens == 1000 && i.InputCostPerToken > 0
		}},
		{"unknown model untouched", deployment.Config{Model: "my-server/llama-local", Info: deployment.ModelInfo{OutputCostPerToken: 1e-9}}, func(i deployment.ModelInfo) bool {
			return i == deployment.ModelInfo{OutputCostPerToken: 1e-9}
		}},
	} {
		d, err := deployment.New(tc.cfg, nil, deployment.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if !tc.check(d.Config().Info) {
			t.Errorf("%s: Info = %+v", tc.name, d.Config().Info)
		}
	}
}
