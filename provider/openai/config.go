package openai

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/provider/models"
)

// DefaultBaseURL is the OpenAI API's base URL, used when neither
// Config.BaseURL nor the OPENAI_BASE_URL environment variable is set.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultTimeout bounds a non-streaming call, and the wait for each event of
// a stream, when the configuration sets no timeout. It matches the official
// OpenAI SDKs' 10 minutes.
const DefaultTimeout = 10 * time.Minute

// Config describes one upstream deployment. The zero value of every field
// except Model has a documented default. A Config is a plain value: New
// copies what it needs.
type Config struct {
	// Model is the deployment's model, written as LiteLLM writes
	// litellm_params.model:
	//
	//	gpt-4o, ft:gpt-4o-2024-05-13:org::id   sent as is
	//	openai/gpt-4o                          sent as "gpt-4o"
	//	azure/<deployment>                     Azure OpenAI deployment (needs BaseURL and APIVersion)
	//	text-completion-openai/<model>         a legacy /completions model: chat requests are converted
	//	openai/responses/<model>, responses/<model>
	//	                                       chat requests go to /responses and come back as chat completions
	//	                                       (so do those to a model provider/models knows as Responses-only,
	//	                                       such as o3-deep-research or gpt-5-pro, with or without a prefix,
	//	                                       Azure's included)
	//	<prefix>/<model>                       any other prefix (hosted_vllm, together_ai, ...) needs a
	//	                                       BaseURL (or OPENAI_BASE_URL) and is sent as <model>
	//
	// Only the first segment is a provider prefix: "hosted_vllm/meta-llama/Llama-3-8B"
	// is sent as "meta-llama/Llama-3-8B". A model name that itself holds a
	// slash must therefore be written with a prefix ("openai/org/model").
	Model string

	// APIKey is sent as "Authorization: Bearer <key>", or as the "api-key"
	// header for Azure. Empty means the OPENAI_API_KEY environment variable
	// (read by New) for a model of OpenAI's own (no provider prefix, or an
	// openai/, openai/responses/, responses/ or text-completion-openai/
	// one) unless ExtraHeaders carries an Authorization header; the key
	// of one account is never sent to another provider's server. Still
	// empty, no key is sent (a local server), except to api.openai.com,
	// which New refuses without a key.
	APIKey string

	// BaseURL is the API's base URL, such as "https://api.openai.com/v1",
	// "http://localhost:8000/v1" or, for Azure, the resource endpoint
	// "https://my-resource.openai.azure.com". Empty means the
	// OPENAI_BASE_URL environment variable when set (read by New), else
	// DefaultBaseURL. Azure requires it.
	BaseURL string

	// Organization and Project are sent as the OpenAI-Organization and
	// OpenAI-Project headers when set. Empty means, for a model of
	// OpenAI's own (as for APIKey), the OPENAI_ORGANIZATION (else the
	// official SDKs' OPENAI_ORG_ID) and OPENAI_PROJECT (else
	// OPENAI_PROJECT_ID) environment variables. The precedence is: the
	// field, then the environment.
	Organization, Project string

	// APIVersion is Azure's api-version query parameter, such as
	// "2024-10-21". Azure requires it; others ignore it.
	APIVersion string

	// ExtraHeaders are sent with every request. A request's own Header
	// overrides them, key by key.
	ExtraHeaders http.Header

	// Timeout bounds a non-streaming call, from sending the request to
	// reading the whole answer; a request's own Timeout wins. Zero means
	// DefaultTimeout.
	Timeout time.Duration

	// StreamTimeout bounds, for a streaming call, the wait for the first
	// byte of the answer and then for each following event, so that a
	// stalled stream fails instead of hanging. (A request's own Timeout
	// bounds the whole stream.) Zero means Timeout.
	StreamTimeout time.Duration

	// HTTPClient sends the requests. Set it for a custom TLS configuration,
	// proxy or transport. Its own Timeout, if any, also applies (and cuts
	// long streams: prefer leaving it zero). Nil means a client shared by
	// every Client of this package, tuned to keep many idle connections
	// per host.
	HTTPClient *http.Client

	// DeploymentID names the deployment in errors ([provider.Error]
	// Deployment). Empty leaves it to the router.
	DeploymentID string

	// UserAgent is the User-Agent header. Empty means DefaultUserAgent. A
	// User-Agent in ExtraHeaders or in a request's Header wins.
	UserAgent string

	// MaxResponseBytes bounds the size of a non-streaming answer, read
	// whole or passed through; a larger one fails with ClassConnection,
	// code response_too_large, naming the limit. Zero means
	// DefaultMaxResponseBytes; a request's MaxResponseBytes wins.
	MaxResponseBytes int64

	// Now is the clock used to read retry-after headers holding an HTTP
	// date. Nil means time.Now; a router passes its own clock.
	Now func() time.Time
}

// String describes the configuration without its secrets: the API key
// shows at most its last four characters, and header values that may be
// credentials are hidden.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("openai.Config{")
	field := func(name, v string) {
		if v == "" {
			return
		}
		if b.Len() > len("openai.Config{") {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %q", name, v)
	}
	field("Model", c.Model)
	field("APIKey", redactKey(c.APIKey))
	field("BaseURL", redactURL(c.BaseURL))
	field("Organization", c.Organization)
	field("Project", c.Project)
	field("APIVersion", c.APIVersion)
	if len(c.ExtraHeaders) > 0 {
		field("ExtraHeaders", fmt.Sprint(redactHeader(c.ExtraHeaders)))
	}
	if c.Timeout != 0 {
		field("Timeout", c.Timeout.String())
	}
	if c.StreamTimeout != 0 {
		field("StreamTimeout", c.StreamTimeout.String())
	}
	if c.HTTPClient != nil {
		field("HTTPClient", "custom")
	}
	field("DeploymentID", c.DeploymentID)
	field("UserAgent", c.UserAgent)
	if c.MaxResponseBytes != 0 {
		field("MaxResponseBytes", strconv.FormatInt(c.MaxResponseBytes, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String, so that %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("model", c.Model)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("api_key", redactKey(c.APIKey))
	add("base_url", redactURL(c.BaseURL))
	add("organization", c.Organization)
	add("project", c.Project)
	add("api_version", c.APIVersion)
	add("deployment_id", c.DeploymentID)
	if len(c.ExtraHeaders) > 0 {
		attrs = append(attrs, slog.Any("extra_headers", redactHeader(c.ExtraHeaders)))
	}
	return slog.GroupValue(attrs...)
}

// redactKey shows the last four characters of a long key ("sk-...wxyz"),
// nothing of a short one.
func redactKey(k string) string {
	switch {
	case k == "":
		return ""
	case len(k) < 16:
		return "[redacted]"
	case strings.HasPrefix(k, "sk-"):
		return "sk-..." + k[len(k)-4:]
	}
	return "..." + k[len(k)-4:]
}

// redactURL hides a password and query values in a URL, where keys
// sometimes hide.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.User == nil && u.RawQuery == "") {
		return s
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// redactHeader returns a copy of h with the values of headers that may hold
// credentials replaced.
func redactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if sensitiveHeader(k) {
			out[k] = []string{"[redacted]"}
			continue
		}
		out[k] = v
	}
	return out
}

func sensitiveHeader(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"authorization", "key", "token", "secret", "cookie", "password", "signature"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// mode is how a deployment talks to its upstream.
type mode uint8

const (
	modeOpenAI         mode = iota // OpenAI or an OpenAI-compatible server
	modeAzure                      // Azure OpenAI: deployment URLs, api-key
	modeTextCompletion             // chat requests converted to /completions
	modeResponses                  // chat requests bridged to /responses
)

// ConfigError reports an invalid Config, naming the field at fault.
type ConfigError struct {
	Field string // "Model", "BaseURL", "APIVersion", ...
	Value string // the offending value, redacted where it may be secret
	Msg   string
}

func (e *ConfigError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("openai: Config.%s %q: %s", e.Field, e.Value, e.Msg)
	}
	return fmt.Sprintf("openai: Config.%s: %s", e.Field, e.Msg)
}

// route is what a model string means; see Config.Model.
type route struct {
	mode     mode
	upstream string // the model sent upstream, or the Azure deployment
	// own reports a model of OpenAI's own (no third-party provider
	// prefix): the OPENAI_* environment defaults apply to it.
	own bool
	// bridge sends chat requests to /responses and answers them as chat
	// completions: a responses/ prefix, or a model the catalogue knows as
	// Responses-only (o3-deep-research, gpt-5-pro, ...), which OpenAI
	// refuses on /chat/completions.
	bridge bool
}

// responsesOnly reports whether the catalogue knows r's model as one that
// only the Responses API serves. Third-party servers are never assumed to
// be OpenAI: their model names mean what the server says.
func (r route) responsesOnly() bool {
	var name string
	switch {
	case r.mode == modeAzure:
		name = "azure/" + r.upstream
	case r.own && r.mode == modeOpenAI:
		name = r.upstream
	default:
		return false
	}
	info, ok := models.Lookup(name)
	return ok && info.Mode == models.ModeResponses
}

// parseModel applies the rules documented on Config.Model. customBase says
// whether the base URL was chosen by the user (Config.BaseURL or
// OPENAI_BASE_URL) rather than defaulted to api.openai.com.
func parseModel(model string, customBase bool) (route, error) {
	bad := func(msg string) (route, error) {
		return route{}, &ConfigError{Field: "Model", Value: model, Msg: msg}
	}
	if strings.TrimSpace(model) == "" {
		return bad("is empty")
	}
	var r route
	switch {
	case strings.HasPrefix(model, "azure/"):
		r = route{mode: modeAzure, upstream: strings.TrimPrefix(model, "azure/")}
		if strings.Contains(r.upstream, "/") {
			return bad("an Azure deployment name cannot contain '/'")
		}
	case strings.HasPrefix(model, "text-completion-openai/"):
		r = route{mode: modeTextCompletion, upstream: strings.TrimPrefix(model, "text-completion-openai/"), own: true}
	case strings.HasPrefix(model, "openai/responses/"):
		r = route{mode: modeResponses, upstream: strings.TrimPrefix(model, "openai/responses/"), own: true}
	case strings.HasPrefix(model, "responses/"):
		r = route{mode: modeResponses, upstream: strings.TrimPrefix(model, "responses/"), own: true}
	case strings.HasPrefix(model, "openai/"):
		r = route{mode: modeOpenAI, upstream: strings.TrimPrefix(model, "openai/"), own: true}
	default:
		prefix, rest, found := strings.Cut(model, "/")
		if !found {
			r = route{mode: modeOpenAI, upstream: model, own: true}
			break
		}
		if !customBase {
			return bad(fmt.Sprintf("provider prefix %q needs a BaseURL (or OPENAI_BASE_URL) pointing at an OpenAI-compatible server", prefix))
		}
		r = route{mode: modeOpenAI, upstream: rest}
	}
	if r.upstream == "" {
		return bad("names no model after its prefix")
	}
	r.bridge = r.mode == modeResponses || r.responsesOnly()
	return r, nil
}

// applyEnv fills, for a model of OpenAI's own, the key, organization and
// project the configuration leaves empty from the environment, as the
// official SDKs and LiteLLM do; it refuses api.openai.com without a key,
// which would answer every call with a 401.
func applyEnv(cfg *Config, r route, custom bool) error {
	if !r.own {
		return nil
	}
	auth := cfg.ExtraHeaders.Get("Authorization") != ""
	if cfg.APIKey == "" && !auth {
		cfg.APIKey = strings.TrimSpace(os.Getenv("OPENAI_API_KEY"))
	}
	if cfg.Organization == "" {
		cfg.Organization = firstEnv("OPENAI_ORGANIZATION", "OPENAI_ORG_ID")
	}
	if cfg.Project == "" {
		cfg.Project = firstEnv("OPENAI_PROJECT", "OPENAI_PROJECT_ID")
	}
	if cfg.APIKey == "" && !auth && !custom {
		return &ConfigError{Field: "APIKey", Msg: "is empty and OPENAI_API_KEY is not set: " + DefaultBaseURL + " needs a key (set APIKey, the environment variable, or a BaseURL for a server that takes none)"}
	}
	return nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// resolveBase returns the base URL to use and whether the user chose it.
func resolveBase(cfg *Config, azure bool) (*url.URL, bool, error) {
	raw, field, custom := cfg.BaseURL, "BaseURL", true
	if raw == "" {
		if azure {
			return nil, false, &ConfigError{Field: "BaseURL", Msg: "is required for an azure/ model (the resource endpoint, such as https://my-resource.openai.azure.com)"}
		}
		if env := os.Getenv("OPENAI_BASE_URL"); env != "" {
			raw, field = env, "BaseURL (from OPENAI_BASE_URL)"
		} else {
			raw, custom = DefaultBaseURL, false
		}
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, false, &ConfigError{Field: field, Value: redactURL(raw), Msg: err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, false, &ConfigError{Field: field, Value: redactURL(raw), Msg: "must be an http or https URL"}
	}
	if u.Host == "" {
		return nil, false, &ConfigError{Field: field, Value: redactURL(raw), Msg: "has no host"}
	}
	if u.Fragment != "" {
		return nil, false, &ConfigError{Field: field, Value: redactURL(raw), Msg: "must not have a fragment"}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, custom, nil
}
