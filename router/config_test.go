package router

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	two := []deployment.Config{dep("gpt-4o", "a"), dep("mini", "b")}
	neg := -1
	tests := []struct {
		name  string
		cfg   Config
		field string // ConfigError.Field
		msg   string // part of the message
	}{
		{"no deployments", Config{}, "Deployments", "no deployments"},
		{"duplicate id", Config{Deployments: []deployment.Config{dep("g", "x"), dep("h", "x")}}, "Deployments[1].ID", `duplicate id "x"`},
		{"duplicate default id", Config{Deployments: []deployment.Config{
			{ModelName: "g", Model: "m", APIKey: "k"}, {ModelName: "g", Model: "m", APIKey: "k"},
		}}, "Deployments[1].ID", "duplicate id"},
		{"empty group", Config{Deployments: []deployment.Config{{ID: "a", Model: "m"}}}, "Deployments[0].ModelName", "empty"},
		{"empty model", Config{Deployments: []deployment.Config{{ID: "a", ModelName: "g"}}}, "Deployments[0].Model", "empty"},
		{"negative rpm", Config{Deployments: []deployment.Config{{ID: "a", ModelName: "g", Model: "m", RPM: -5}}}, "Deployments[0].RPM", "negative"},
		{"negative timeout", Config{Deployments: []deployment.Config{{ID: "a", ModelName: "g", Model: "m", Timeout: -time.Second}}}, "Deployments[0].Timeout", "negative"},
		{"alias cycle", Config{Deployments: two, Aliases: map[string]string{"x": "y", "y": "x"}}, "Aliases[x]", "alias cycle x -> y -> x"},
		{"alias to unknown", Config{Deployments: two, Aliases: map[string]string{"x": "nope"}}, "Aliases[x]", `unknown model group "nope"`},
		{"alias shadows group", Config{Deployments: two, Aliases: map[string]string{"mini": "gpt-4o"}}, "Aliases[mini]", "also a model group"},
		{"fallback to unknown", Config{Deployments: two, Settings: Settings{Fallbacks: map[string][]string{"gpt-4o": {"mini", "nope"}}}}, "Settings.Fallbacks[gpt-4o][1]", `unknown model group "nope"`},
		{"fallback from unknown", Config{Deployments: two, Settings: Settings{Fallbacks: map[string][]string{"nope": {"mini"}}}}, "Settings.Fallbacks[nope]", "unknown"},
		{"cw fallback to unknown", Config{Deployments: two, Settings: Settings{ContextWindowFallbacks: map[string][]string{"gpt-4o": {"big"}}}}, "Settings.ContextWindowFallbacks[gpt-4o][0]", "unknown"},
		{"default fallback to unknown", Config{Deployments: two, Settings: Settings{DefaultFallbacks: []string{"nope"}}}, "Settings.DefaultFallbacks[0]", "unknown"},
		{"unknown strategy", Config{Deployments: two, Settings: Settings{RoutingStrategy: "fastest-please"}}, "Settings.RoutingStrategy", "fastest-please"},
		{"negative retries", Config{Deployments: two, Settings: Settings{NumRetries: &neg}}, "Settings.NumRetries", "negative"},
		{"negative retry policy", Config{Deployments: two, Settings: Settings{RetryPolicy: map[provider.Class]int{provider.ClassServer: -1}}}, "Settings.RetryPolicy[server_error]", "negative"},
		{"retrying caller errors", Config{Deployments: two, Settings: Settings{RetryPolicy: map[provider.Class]int{provider.ClassBadRequest: 3}}}, "Settings.RetryPolicy[bad_request]", "never retried"},
		{"negative router timeout", Config{Deployments: two, Settings: Settings{Timeout: -1}}, "Settings.Timeout", "negative"},
		{"negative max fallbacks", Config{Deployments: two, Settings: Settings{MaxFallbacks: new(-2)}}, "Settings.MaxFallbacks", "negative"},
		{"negative allowed fails", Config{Deployments: two, Settings: Settings{Deployment: deployment.Settings{AllowedFails: new(-2)}}}, "Settings.Deployment.AllowedFails", "negative"},
	}
	fs := newFakes()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, WithClientFactory(fs.factory))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New = %v, want *ConfigError", err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", ce.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "router: ") {
				t.Errorf("error %q does not start with router: and mention %q", err, tt.msg)
			}
		})
	}
}

func TestNewResolvesAliasChainsAndFallbackAliases(t *testing.T) {
	cfg := Config{
		Deployments: []deployment.Config{dep("gpt-4o", "a"), dep("mini", "b")},
		Aliases:     map[string]string{"best": "smart", "smart": "gpt-4o", "cheap": "mini"},
		Settings:    Settings{Fallbacks: map[string][]string{"best": {"cheap"}}},
	}
	h := newHarness(t, cfg)
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	res, err := h.r.Do(t.Context(), chatReq("best"), WithNumRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if res.ModelGroup != "mini" || res.Fallbacks != 1 {
		t.Errorf("served by %s after %d fallbacks, want mini after 1", res.ModelGroup, res.Fallbacks)
	}
	if got := h.client("a").Calls(); got != 1 {
		t.Errorf("alias best reached gpt-4o %d times, want 1", got)
	}
	if got := h.r.Aliases(); len(got) != 3 || got["best"] != "gpt-4o" || got["cheap"] != "mini" {
		t.Errorf("Aliases() = %v", got)
	}
}

func TestNewWithoutFactoryFailsClearly(t *testing.T) {
	_, err := New(Config{Deployments: []deployment.Config{dep("g", "a")}}, WithClientFactory(func(deployment.Config) (provider.Client, error) {
		return nil, errors.New("boom")
	}))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "Deployments[0]" || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("New = %v, want a ConfigError for Deployments[0] wrapping boom", err)
	}
}

func TestSettingsDefaults(t *testing.T) {
	s, err := validateSettings(Settings{}, map[string]bool{"g": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.numRetries != DefaultNumRetries || s.maxFallbacks != DefaultMaxFallbacks || s.MaxRetryWait != DefaultMaxRetryWait {
		t.Errorf("defaults = retries %d, fallbacks %d, wait %s", s.numRetries, s.maxFallbacks, s.MaxRetryWait)
	}
	s, err = validateSettings(Settings{NumRetries: new(0)}, map[string]bool{"g": true}, nil)
	if err != nil || s.numRetries != 0 {
		t.Errorf("NumRetries new(0) = %d, %v; want 0", s.numRetries, err)
	}
}

// FuzzNew feeds New arbitrary group names, aliases and fallbacks: it must
// never panic, and every rejection must be a *ConfigError.
func FuzzNew(f *testing.F) {
	f.Add("g", "h", "a", "g", "a", "h", 2, "")
	f.Add("g", "g", "a", "b", "b", "a", 0, "least-busy")
	f.Add("", "h", "h", "h", "x", "y", -1, "nope")
	f.Add("g", "h", "a", "a", "g", "a", 5, "usage-based-routing")
	fs := newFakes()
	f.Fuzz(func(t *testing.T, g1, g2, alias, target, fbFrom, fbTo string, retries int, strat string) {
		cfg := Config{
			Deployments: []deployment.Config{dep(g1, "a"), dep(g2, "b")},
			Aliases:     map[string]string{alias: target},
			Settings: Settings{
				Fallbacks:        map[string][]string{fbFrom: {fbTo, g1}},
				DefaultFallbacks: []string{fbTo},
				NumRetries:       &retries,
				RoutingStrategy:  strat,
				RetryPolicy:      map[provider.Class]int{provider.Class(retries & 15): retries},
			},
		}
		r, err := New(cfg, WithClientFactory(fs.factory))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New = %T %v, want *ConfigError", err, err)
			}
			return
		}
		// A valid router answers every name without panicking.
		for _, m := range []string{g1, g2, alias, target, fbFrom, fbTo} {
			_, _ = r.Do(t.Context(), chatReq(m), WithNumRetries(0))
		}
	})
}
