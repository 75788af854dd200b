package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/internal/httphdr"
)

// ModelInfo describes what a deployment's model accepts and costs. Zero
// fields are filled from provider/models when the model is known there.
type ModelInfo struct {
	// MaxInputTokens is the context window for the prompt; 0 means unknown
	// (no context-window check).
	MaxInputTokens int
	// MaxOutputTokens is the most tokens one answer may hold; 0 means unknown.
	MaxOutputTokens int
	// InputCostPerToken and OutputCostPerToken are prices in US dollars per
	// token; 0 means unknown (treated as free by cost-based routing).
	InputCostPerToken  float64
	OutputCostPerToken float64
}

// Config is the immutable description of one deployment: one model on one
// API key, organisation, Azure resource or OpenAI-compatible server. Field
// names follow LiteLLM's model_list entries. A Config is a value; the
// Deployment made from it keeps its own copy.
type Config struct {
	// ID identifies the deployment uniquely; when empty, New sets it to
	// DefaultID(cfg).
	ID string
	// ModelName is the model group the deployment serves (LiteLLM model_name).
	ModelName string
	// Model is the provider model string (LiteLLM litellm_params.model), such
	// as "openai/gpt-4o" or "azure/my-deployment".
	Model string

	// APIKey is the secret sent upstream. It never appears in String,
	// LogValue or DefaultID.
	APIKey       string
	BaseURL      string
	APIVersion   string
	Organization string
	Project      string
	// ExtraHeaders are sent with every call to this deployment.
	ExtraHeaders http.Header
	// HTTPClient, when set, is used for this deployment's calls.
	HTTPClient *http.Client

	// Weight is the relative share for simple-shuffle; 0 means unset.
	Weight float64
	// RPM and TPM are the deployment's request and token limits per minute,
	// enforced locally; 0 means unlimited. simple-shuffle also uses them as
	// weights when no deployment of the group sets Weight.
	RPM, TPM int
	// MaxParallelRequests caps requests in flight; 0 means unlimited.
	MaxParallelRequests int
	// Info holds context window and prices; zero fields are defaulted from
	// provider/models.Lookup(Model).
	Info ModelInfo
	// Order is the priority: the lowest order among available deployments
	// wins; 0 is the default (highest) priority.
	Order int
	// Tags select deployments for tagged requests.
	Tags []string

	// Timeout and StreamTimeout bound one call; 0 leaves it to the router.
	Timeout, StreamTimeout time.Duration
	// CooldownTime, when positive, replaces Settings.CooldownTime for this
	// deployment.
	CooldownTime time.Duration
}

// RedactKey returns key in a form safe to print: "" for an empty key, the
// first three and last four characters for a long one ("sk-...xyz1"), and
// "***" for a short one.
func RedactKey(key string) string {
	switch {
	case key == "":
		return ""
	case len(key) < 12:
		return "***"
	default:
		return key[:3] + "..." + key[len(key)-4:]
	}
}

// String describes the config on one line without its secret: the API key is
// redacted (see RedactKey) and extra header values are not printed.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("deployment{")
	field := func(name, v string) {
		if v == "" {
			return
		}
		if b.Len() > len("deployment{") {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(v))
	}
	num := func(name string, v int) {
		if v != 0 {
			field(name, strconv.Itoa(v))
		}
	}
	field("id", c.ID)
	field("model_name", c.ModelName)
	field("model", c.Model)
	field("api_key", RedactKey(c.APIKey))
	field("base_url", c.BaseURL)
	field("api_version", c.APIVersion)
	field("organization", c.Organization)
	field("project", c.Project)
	if c.Weight != 0 {
		field("weight", strconv.FormatFloat(c.Weight, 'g', -1, 64))
	}
	num("rpm", c.RPM)
	num("tpm", c.TPM)
	num("max_parallel_requests", c.MaxParallelRequests)
	num("order", c.Order)
	if len(c.Tags) > 0 {
		field("tags", strings.Join(c.Tags, ","))
	}
	if len(c.ExtraHeaders) > 0 {
		names := make([]string, 0, len(c.ExtraHeaders))
		for k := range c.ExtraHeaders {
			names = append(names, k)
		}
		slices.Sort(names)
		field("extra_headers", strings.Join(names, ","))
	}
	b.WriteByte('}')
	return b.String()
}

// LogValue implements slog.LogValuer: the same fields as String, as a group,
// with the API key redacted.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", c.ID),
		slog.String("model_name", c.ModelName),
		slog.String("model", c.Model),
	}
	if c.APIKey != "" {
		attrs = append(attrs, slog.String("api_key", RedactKey(c.APIKey)))
	}
	if c.BaseURL != "" {
		attrs = append(attrs, slog.String("base_url", c.BaseURL))
	}
	if c.Order != 0 {
		attrs = append(attrs, slog.Int("order", c.Order))
	}
	return slog.GroupValue(attrs...)
}

// DefaultID returns a short stable identifier for cfg: the model group name
// followed by a hash of (ModelName, Model, BaseURL, APIVersion, Organization,
// Project, APIKey). The key only enters through the hash, so the ID is safe
// to print and log, and two deployments that differ only by key get
// different IDs.
func DefaultID(cfg Config) string {
	h := sha256.New()
	for _, s := range [...]string{cfg.ModelName, cfg.Model, cfg.BaseURL, cfg.APIVersion, cfg.Organization, cfg.Project, cfg.APIKey} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	prefix := cfg.ModelName
	if prefix == "" {
		prefix = "deployment"
	}
	return prefix + "-" + hex.EncodeToString(sum[:6])
}

// GoString makes %#v print String, so that it hides the key too.
func (c Config) GoString() string { return c.String() }

// ConfigError reports an invalid Config, naming the field at fault.
type ConfigError struct {
	// Field is the Go name of the offending field within Config, such as
	// "RPM" or "Info.MaxInputTokens".
	Field string
	// Msg says what is wrong with it.
	Msg string
}

// Error returns "deployment: config: <field>: <msg>".
func (e *ConfigError) Error() string { return "deployment: config: " + e.Field + ": " + e.Msg }

// Validate checks the config the way New does, so that a config can be
// checked before any client is made: Model is set; Weight is a finite
// number >= 0; limits, timeouts, the cooldown time and model info are not
// negative; ExtraHeaders can be sent (names are HTTP tokens, values hold
// no control characters). The error is a *ConfigError naming the field. ModelName may be
// empty for a deployment used on its own; a router requires it.
func (c *Config) Validate() error {
	bad := func(field, format string, v any) error {
		return &ConfigError{Field: field, Msg: fmt.Sprintf(format, v)}
	}
	switch {
	case c.Model == "":
		return &ConfigError{Field: "Model", Msg: "empty provider model"}
	case c.Weight < 0 || math.IsNaN(c.Weight) || math.IsInf(c.Weight, 0):
		return bad("Weight", "must be a finite number >= 0, got %g", c.Weight)
	}
	for _, f := range [...]struct {
		name string
		v    int
	}{
		{"RPM", c.RPM}, {"TPM", c.TPM}, {"MaxParallelRequests", c.MaxParallelRequests},
		{"Info.MaxInputTokens", c.Info.MaxInputTokens}, {"Info.MaxOutputTokens", c.Info.MaxOutputTokens},
	} {
		if f.v < 0 {
			return bad(f.name, "must not be negative, got %d", f.v)
		}
	}
	for _, f := range [...]struct {
		name string
		v    time.Duration
	}{{"Timeout", c.Timeout}, {"StreamTimeout", c.StreamTimeout}, {"CooldownTime", c.CooldownTime}} {
		if f.v < 0 {
			return bad(f.name, "must not be negative, got %s", f.v)
		}
	}
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"Info.InputCostPerToken", c.Info.InputCostPerToken}, {"Info.OutputCostPerToken", c.Info.OutputCostPerToken}} {
		if f.v < 0 || math.IsNaN(f.v) {
			return bad(f.name, "must be a number >= 0, got %g", f.v)
		}
	}
	// A header net/http refuses to send would fail every call as a
	// connection error: refuse it here, naming it.
	var he *httphdr.Error
	if err := httphdr.Check(c.ExtraHeaders); errors.As(err, &he) {
		return &ConfigError{Field: "ExtraHeaders[" + he.Name + "]", Msg: he.Msg}
	}
	return nil
}
