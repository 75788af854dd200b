package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// This file drives the gateway with OpenAI's official Node SDK (npm
// "openai", pinned in testdata/node/package.json and its lock file), the
// way a TypeScript service would call it. .ci/run installs the package
// with npm ci into a scratch directory and exports its node_modules
// directory as SWITCHYARD_NODE_MODULES. By hand:
//
//	cp router/handler/testdata/node/package*.json /tmp/switchyard-node/
//	npm ci --prefix /tmp/switchyard-node
//	SWITCHYARD_NODE_MODULES=/tmp/switchyard-node/node_modules go test ./router/handler -run TestNodeSDK

// defaultNodeModules is where .ci/run installs the SDK, used when
// SWITCHYARD_NODE_MODULES is not set.
const defaultNodeModules = "/tmp/switchyard-node/node_modules"

// nodeSDK returns the node binary and the node_modules directory holding
// the openai package, skipping the test when either is missing.
func nodeSDK(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the Node SDK test (.ci/run runs it where node is present)")
	}
	modules = os.Getenv("SWITCHYARD_NODE_MODULES")
	if modules == "" {
		modules = defaultNodeModules
	}
	manifest, err := os.ReadFile(filepath.Join(modules, "openai", "package.json"))
	if err != nil {
		t.Skipf("the openai npm package is not in %s (set SWITCHYARD_NODE_MODULES; .ci/run installs it): %v", modules, err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(manifest, &pkg); err != nil {
		t.Fatalf("reading %s/openai/package.json: %v", modules, err)
	}
	t.Logf("node SDK: openai %s from %s", pkg.Version, modules)
	return node, modules
}

// nodeError is an error as sdk.mjs saw it: the SDK's class and fields.
type nodeError struct {
	Class       string  `json:"class"`
	Message     string  `json:"message"`
	APIError    bool    `json:"apiError"`
	Status      int     `json:"status"`
	Code        *string `json:"code"`
	Type        *string `json:"type"`
	Param       *string `json:"param"`
	BodyMessage *string `json:"bodyMessage"`
	RetryAfter  *string `json:"retryAfter"`
	ShouldRetry *string `json:"shouldRetry"`
	NotFound    bool    `json:"notFound"`
	BadRequest  bool    `json:"badRequest"`
	RateLimit   bool    `json:"rateLimit"`
	Server      bool    `json:"server"`
}

// nodeStep is one step's result from sdk.mjs; each step fills the fields
// it has.
type nodeStep struct {
	OK            bool       `json:"ok"`
	Error         *nodeError `json:"error"`
	Text          string     `json:"text"`
	Finish        string     `json:"finish"`
	TotalTokens   int        `json:"totalTokens"`
	Chunks        int        `json:"chunks"`
	ContentChunks int        `json:"contentChunks"`
	Count         int        `json:"count"`
	Index1        int        `json:"index1"`
	Beta          []float64  `json:"beta"`
	Status        string     `json:"status"`
	Types         []string   `json:"types"`
	CompletedText *string    `json:"completedText"`
	SDKRequests   int        `json:"sdkRequests"`
}

// TestNodeSDK runs testdata/node/sdk.mjs against a gateway on the fake
// upstream and checks what the Node SDK saw and what reached the upstream.
//
// Groups besides the stack's: "cool" (its one deployment's key answers
// one 429 with retry-after 30s, which cools it down), "flaky" (two
// deployments whose keys answer 503; the router retries server errors
// once) and "tiny" (its key answers 400 context_length_exceeded).
func TestNodeSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Node SDK test (it starts node)")
	}
	node, modules := nodeSDK(t)
	st := newStack(t, stackConfig{
		handler: []Option{WithKeys("sk-gateway")},
		config: func(c *router.Config, url string) {
			c.Deployments = append(c.Deployments,
				deployment.Config{ID: "cool-a", ModelName: "cool", Model: "openai/gpt-4o", APIKey: "sk-upstream-cool", BaseURL: url},
				deployment.Config{ID: "flaky-a", ModelName: "flaky", Model: "openai/gpt-4o", APIKey: "sk-upstream-flaky-a", BaseURL: url},
				deployment.Config{ID: "flaky-b", ModelName: "flaky", Model: "openai/gpt-4o", APIKey: "sk-upstream-flaky-b", BaseURL: url},
				deployment.Config{ID: "tiny-a", ModelName: "tiny", Model: "openai/gpt-4o", APIKey: "sk-upstream-tiny", BaseURL: url},
			)
			c.Settings.RetryPolicy = map[provider.Class]int{provider.ClassServer: 1}
			many := 1000 // the flaky deployments never cool down: every SDK retry reaches them
			c.Settings.Deployment.AllowedFails = &many
		},
	})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultRateLimit, Key: "sk-upstream-cool", Count: 1, RetryAfter: 30 * time.Second})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-upstream-flaky-a", Status: 503})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-upstream-flaky-b", Status: 503})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultContextLength, Key: "sk-upstream-tiny", Window: 2})

	// A hung node process is killed at the deadline (and its pipes
	// abandoned WaitDelay later).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "node", "sdk.mjs"))
	cmd.Env = append(os.Environ(),
		"SWITCHYARD_BASE_URL="+st.srv.URL+"/v1",
		"SWITCHYARD_API_KEY=sk-gateway",
		"SWITCHYARD_NODE_MODULES="+modules,
	)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("sdk.mjs did not finish in time and was killed; stderr:\n%s", stderr.String())
		}
		t.Fatalf("sdk.mjs: %v; stderr:\n%s", err, stderr.String())
	}
	t.Logf("sdk.mjs ran in %s", time.Since(start).Round(time.Millisecond))
	var res map[string]nodeStep
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("sdk.mjs printed %q, not a JSON object: %v; stderr:\n%s", stdout.String(), err, stderr.String())
	}
	stepOf := func(t *testing.T, name string, wantOK bool) nodeStep {
		t.Helper()
		s, ok := res[name]
		if !ok {
			t.Fatalf("sdk.mjs reported no step %q", name)
		}
		if s.OK != wantOK {
			t.Fatalf("step %s: ok = %v (error %+v), want %v", name, s.OK, s.Error, wantOK)
		}
		if !wantOK && (s.Error == nil || !s.Error.APIError) {
			t.Fatalf("step %s: error %+v, want an APIError", name, s.Error)
		}
		return s
	}

	t.Run("chat", func(t *testing.T) {
		s := stepOf(t, "chat", true)
		if s.Text != "echo: hello there" || s.Finish != "stop" || s.TotalTokens == 0 {
			t.Errorf("chat: text %q finish %q tokens %d, want the fake's echo, stop, usage", s.Text, s.Finish, s.TotalTokens)
		}
	})
	t.Run("chat stream", func(t *testing.T) {
		s := stepOf(t, "chatStream", true)
		if s.Text != "echo: stream me please" || s.Finish != "stop" {
			t.Errorf("stream assembled %q finish %q, want the fake's echo and stop", s.Text, s.Finish)
		}
		// One event per word from the fake, relayed one by one.
		if s.ContentChunks != 4 || s.TotalTokens == 0 {
			t.Errorf("stream: %d content chunks (of %d), usage %d tokens; want 4 and the usage chunk", s.ContentChunks, s.Chunks, s.TotalTokens)
		}
		h := stepOf(t, "chatStreamHelper", true)
		if h.Text != "echo: assemble me" || h.Finish != "stop" {
			t.Errorf("ChatCompletionStream assembled %q finish %q", h.Text, h.Finish)
		}
	})
	t.Run("embeddings", func(t *testing.T) {
		s := stepOf(t, "embeddings", true)
		if s.Count != 2 || s.Index1 != 1 {
			t.Fatalf("embeddings: %d vectors, second with index %d; want 2 and index 1", s.Count, s.Index1)
		}
		f := stepOf(t, "embeddingsFloat", true)
		for name, got := range map[string][]float64{"base64 (the SDK's default)": s.Beta, "float": f.Beta} {
			want := openaitest.Vector("beta", len(got))
			if len(got) == 0 {
				t.Fatalf("%s: empty vector", name)
			}
			for i, v := range got {
				if float32(v) != want[i] {
					t.Fatalf("%s: embedding[%d] = %v, want the fake's %v", name, i, v, want[i])
				}
			}
		}
	})
	t.Run("responses", func(t *testing.T) {
		s := stepOf(t, "responses", true)
		if s.Text != "echo: what is up" || s.Status != "completed" {
			t.Errorf("responses: output_text %q status %q", s.Text, s.Status)
		}
		ss := stepOf(t, "responsesStream", true)
		if ss.Text != "echo: what is up" || len(ss.Types) == 0 || ss.Types[0] != "response.created" || ss.Types[len(ss.Types)-1] != "response.completed" {
			t.Errorf("responses stream: text %q from events %v; want the echo, from response.created to response.completed", ss.Text, ss.Types)
		}
	})
	t.Run("transcription", func(t *testing.T) {
		s := stepOf(t, "transcription", true)
		// The fake names the file and its size: the multipart upload
		// reached it whole.
		if s.Text != "transcript of speech.mp3 (3000 bytes)" {
			t.Errorf("transcription text %q", s.Text)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			step, class, code, param string
			status                   int
			is                       func(*nodeError) bool
			message                  string
		}{
			{"unknownModel", "NotFoundError", "model_not_found", "model", 404, func(e *nodeError) bool { return e.NotFound }, `The model "gpt-5-nope" does not exist. Valid model names: `},
			{"missingModel", "BadRequestError", "missing_model", "model", 400, func(e *nodeError) bool { return e.BadRequest }, "you must provide a model parameter"},
			{"contextLength", "BadRequestError", "context_length_exceeded", "messages", 400, func(e *nodeError) bool { return e.BadRequest }, "maximum context length is 2 tokens"},
			{"upstreamRateLimit", "RateLimitError", "rate_limit_exceeded", "", 429, func(e *nodeError) bool { return e.RateLimit }, "Rate limit reached for"},
			{"coolingDown", "RateLimitError", "no_deployment_available", "", 429, func(e *nodeError) bool { return e.RateLimit }, "cool"},
		}
		for _, tt := range tests {
			e := stepOf(t, tt.step, false).Error
			if e.Class != tt.class || !tt.is(e) || e.Status != tt.status || str(e.Code) != tt.code {
				t.Errorf("%s: %s status %d code %s, want %s %d %s", tt.step, e.Class, e.Status, str(e.Code), tt.class, tt.status, tt.code)
			}
			if tt.param != "" && str(e.Param) != tt.param {
				t.Errorf("%s: param %s, want %s", tt.step, str(e.Param), tt.param)
			}
			if !strings.Contains(str(e.BodyMessage), tt.message) || !strings.Contains(e.Message, tt.message) {
				t.Errorf("%s: message %q (SDK: %q), want it to contain %q", tt.step, str(e.BodyMessage), e.Message, tt.message)
			}
		}
		for _, name := range []string{"upstreamRateLimit", "coolingDown"} {
			e := res[name].Error
			if e == nil || e.RetryAfter == nil {
				t.Errorf("%s: no retry-after", name)
				continue
			}
			if secs, err := strconv.Atoi(*e.RetryAfter); err != nil || secs < 1 || secs > 30 {
				t.Errorf("%s: retry-after %q, want 1..30 seconds (the upstream's 30s cooldown)", name, *e.RetryAfter)
			}
		}
	})
	t.Run("sdk retries", func(t *testing.T) {
		s := stepOf(t, "retries", false)
		e := s.Error
		if e.Class != "InternalServerError" || !e.Server || e.Status != 503 {
			t.Errorf("flaky: %s status %d, want InternalServerError 503", e.Class, e.Status)
		}
		// The SDK (maxRetries 2) retries a 503 unless told not to; each of
		// its requests costs the router's two attempts, one per deployment.
		want := 3
		if str(e.ShouldRetry) == "false" {
			want = 1
		} else {
			t.Logf("the gateway sent no x-should-retry: false (got %s), so the SDK's retries multiplied the router's", str(e.ShouldRetry))
		}
		if s.SDKRequests != want {
			t.Errorf("the SDK made %d requests (x-should-retry %s), want %d", s.SDKRequests, str(e.ShouldRetry), want)
		}
		keys := st.fake.Stats().Keys
		for _, k := range []string{"sk-upstream-flaky-a", "sk-upstream-flaky-b"} {
			if got := keys[k].Requests; got != int64(s.SDKRequests) {
				t.Errorf("%s saw %d requests, want one per SDK request (%d)", k, got, s.SDKRequests)
			}
		}
	})
	t.Run("upstream traffic", func(t *testing.T) {
		stats := st.fake.Stats()
		// Key a: chat ×3, embeddings ×2, responses ×2, transcription ×1.
		// The unknown and missing models and the cooled-down call never
		// reach the upstream.
		wantKeys := map[string]int64{"sk-upstream-a": 8, "sk-upstream-cool": 1, "sk-upstream-tiny": 1}
		for k, want := range wantKeys {
			if got := stats.Keys[k].Requests; got != want {
				t.Errorf("%s saw %d requests, want %d", k, got, want)
			}
		}
		flaky := stats.Keys["sk-upstream-flaky-a"].Requests + stats.Keys["sk-upstream-flaky-b"].Requests
		if want := 10 + flaky; stats.Requests != want {
			t.Errorf("the upstream saw %d requests, want %d", stats.Requests, want)
		}
		for ep, want := range map[string]int64{"embeddings": 2, "responses": 2, "transcriptions": 1} {
			if got := stats.Endpoints[ep]; got != want {
				t.Errorf("endpoint %s: %d requests, want %d", ep, got, want)
			}
		}
	})
}
