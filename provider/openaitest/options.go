package openaitest

import (
	"net/http"
	"time"
)

// DefaultCompletionTokens is the completion allowance charged to the token
// bucket when a request sets neither max_tokens, max_completion_tokens nor
// max_output_tokens.
const DefaultCompletionTokens = 16

// defaultHistory is how many requests [Handler.Requests] keeps by default.
const defaultHistory = 1000

// An Option configures a [Handler] or [Server].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// KeyConfig describes one API key the fake accepts and the limits it
// enforces. The zero value accepts the key without limits.
type KeyConfig struct {
	// RPM and TPM are the requests and tokens allowed per minute. Each is a
	// token bucket of that capacity, full at first and refilled
	// continuously at that many units per minute, as OpenAI's limits are.
	// A request costs one request and its token estimate (prompt estimate
	// plus max_tokens, max_completion_tokens or max_output_tokens, else
	// [DefaultCompletionTokens]); transcriptions cost no tokens. Zero means
	// unlimited, and that dimension's x-ratelimit-* headers are not sent.
	RPM, TPM int

	// PerModel gives every model its own pair of buckets, as OpenAI does.
	// By default all models used with the key share one pair.
	PerModel bool

	// Group names a set of keys that share their buckets, as the keys of
	// one OpenAI organisation do. The limits of the first key registered in
	// the group apply. Empty means the key has buckets of its own.
	Group string

	// Organization and Project, when set, are the only values the
	// OpenAI-Organization and OpenAI-Project request headers may carry with
	// this key; a request with another value is refused with 401
	// (mismatched_organization, mismatched_project). Requests without the
	// header are accepted, as OpenAI accepts them.
	Organization, Project string
}

type keyEntry struct {
	key string
	cfg KeyConfig
}

// InterceptFunc is an escape hatch that sees every request before the fake
// handles it: after the request is counted and its body read (body holds it,
// and r.Body reads it again), before authentication, faults and limits. It
// returns true when it has written the response itself; the response's
// status is still counted and recorded.
//
// The options are fixed when the fake is made; an InterceptFunc is how a
// test changes anything else while it runs (a slowdown, a custom answer):
// it reads the test's own state on every request, and returns false to let
// the fake answer as usual.
type InterceptFunc func(w http.ResponseWriter, r *http.Request, body []byte) bool

// config is the immutable configuration assembled from Options.
type config struct {
	keys       []keyEntry
	anyKey     bool
	anyKeyCfg  KeyConfig
	now        func() time.Time
	latency    time.Duration
	ttft, gap  time.Duration
	chunks     int
	reply      string
	reasoning  string
	estimate   func(body []byte) int
	models     []string
	toolCalls  bool
	intercept  InterceptFunc
	history    int
	historySet bool
	padding    Padding
}

// WithKey registers an API key and its limits. Once a key is registered,
// requests with any other key are refused with 401 invalid_api_key, unless
// [WithAnyKey] is given too. Registering a key twice keeps the last config.
func WithKey(key string, cfg KeyConfig) Option {
	return optionFunc(func(c *config) { c.keys = append(c.keys, keyEntry{key, cfg}) })
}

// WithAnyKey accepts every non-empty API key, giving each key not
// registered with [WithKey] its own limits from cfg (the zero KeyConfig:
// unlimited). A server without any WithKey option accepts any key
// without limits.
func WithAnyKey(cfg KeyConfig) Option {
	return optionFunc(func(c *config) { c.anyKey, c.anyKeyCfg = true, cfg })
}

// WithClock sets the clock used for the token buckets, "created"
// timestamps and openai-processing-ms, so that tests can step time instead
// of sleeping. Latency and stream timing remain real sleeps. Default
// time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithLatency makes every successful non-streaming answer wait d (a real
// sleep, cut short when the client goes away). Default 0.
func WithLatency(d time.Duration) Option {
	return optionFunc(func(c *config) { c.latency = d })
}

// WithStreamTiming shapes streams: the first content event is sent ttft
// after the response headers, later events gap apart (real sleeps, cut
// short when the client goes away), and the reply is split into chunks
// content events (0: one event per word). Default 0, 0, 0.
func WithStreamTiming(ttft, gap time.Duration, chunks int) Option {
	return optionFunc(func(c *config) { c.ttft, c.gap, c.chunks = ttft, gap, chunks })
}

// WithReply makes every chat, completion, responses and transcription
// answer carry text instead of the default "echo: <last user text>".
func WithReply(text string) Option {
	return optionFunc(func(c *config) { c.reply = text })
}

// WithReasoning adds reasoning: chat messages (and stream deltas) carry a
// reasoning_content field with text, which is counted in
// completion_tokens_details.reasoning_tokens; the Responses API's reasoning
// item summary uses text instead of its default "Thinking about: <last user
// text>".
func WithReasoning(text string) Option {
	return optionFunc(func(c *config) { c.reasoning = text })
}

// WithTokenEstimator sets how many prompt tokens a JSON request body is
// worth, for the token bucket, the context-window fault and usage.
// Default len(body)/4. A nil f keeps the default.
func WithTokenEstimator(f func(body []byte) int) Option {
	return optionFunc(func(c *config) { c.estimate = f })
}

// WithModels sets the models (and Azure deployments) the fake serves: GET
// /models lists them, and a request for any other model or deployment is
// refused with 404 model_not_found (Azure: DeploymentNotFound). By
// default every model is served and the list holds a few common names.
func WithModels(ids ...string) Option {
	return optionFunc(func(c *config) { c.models = append([]string(nil), ids...) })
}

// WithToolCalls answers every chat or responses request that offers
// function tools (and whose tool_choice is not "none") with tool calls,
// without waiting for "call tool" in the prompt.
func WithToolCalls() Option {
	return optionFunc(func(c *config) { c.toolCalls = true })
}

// WithIntercept installs f as the escape hatch described at
// [InterceptFunc].
func WithIntercept(f InterceptFunc) Option {
	return optionFunc(func(c *config) { c.intercept = f })
}

// WithHistory sets how many recent requests [Handler.Requests] keeps
// (default 1000); n <= 0 records none, which saves copying
// every request's header and body in benchmarks.
func WithHistory(n int) Option {
	return optionFunc(func(c *config) { c.history, c.historySet = n, true })
}

// Padding makes successful non-streaming JSON answers large, as a big
// embeddings answer is, for tests and benchmarks of what holds (or
// passes through) a large body.
type Padding struct {
	// Bytes is how much larger each answer is: a top-level "x_padding"
	// member is written first (before "usage"), an array of numbers like
	// an embedding's. Zero or less adds nothing.
	Bytes int
	// Chunked sends the padded answers without a Content-Length
	// (chunked transfer encoding), as a server that streams its JSON
	// does.
	Chunked bool
}

// WithPadding pads every successful non-streaming JSON answer (chat,
// completions, embeddings, responses, JSON transcriptions) by p.Bytes.
// The padding is written as it is sent, from a fixed buffer, so the fake
// holds no more memory for a 100 MB answer than for a small one and a
// test can measure what its client holds. Default none.
func WithPadding(p Padding) Option {
	return optionFunc(func(c *config) { c.padding = p })
}
