package litellmconfig

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
)

// serve loads yaml with FAKE_BASE pointing at a fake upstream, makes its
// router and handler, and serves them until the test ends.
func serve(t *testing.T, yaml string, up *openaitest.Server, opts ...router.Option) (*Config, *router.Router, *httptest.Server) {
	t.Helper()
	cfg, err := Parse([]byte(yaml), env("FAKE_BASE", up.URL))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	rt, closeRouter, err := cfg.NewRouter(opts...)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	srv := httptest.NewServer(handler.New(rt, cfg.HandlerOptions()...))
	t.Cleanup(func() {
		srv.Close()
		if err := closeRouter(); err != nil {
			t.Errorf("closeRouter: %v", err)
		}
	})
	return cfg, rt, srv
}

// post sends a chat request and returns the answer's status, headers and
// body.
func post(t *testing.T, srv *httptest.Server, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, srv, req)
}

func do(t *testing.T, srv *httptest.Server, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// keys returns the keys of mr that start with prefix.
func keys(mr *miniredis.Miniredis, prefix string) []string {
	var out []string
	for _, k := range mr.Keys() {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// waitNoConnections waits until no client is connected to mr.
func waitNoConnections(t *testing.T, mr *miniredis.Miniredis) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for mr.CurrentConnectionCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to %s still open", mr.CurrentConnectionCount(), mr.Addr())
		}
		time.Sleep(time.Millisecond)
	}
}

func redisHostPort(mr *miniredis.Miniredis) (host, port string) {
	host, port, _ = strings.Cut(mr.Addr(), ":")
	return host, port
}

const cacheMe = `{"model":"gpt-4o","messages":[{"role":"user","content":"cache me"}]}`

// TestNewRouterRedis wires router_settings' Redis and a response cache
// from the file, on one Redis or two: state and answers land where the
// file says, the second identical request is answered from the cache, and
// closeRouter closes every connection NewRouter opened.
func TestNewRouterRedis(t *testing.T) {
	state, other := miniredis.RunT(t), miniredis.RunT(t)
	sh, sp := redisHostPort(state)
	oh, op := redisHostPort(other)
	for _, tt := range []struct {
		name, cache string
		answers     *miniredis.Miniredis // where answers are cached; nil: in memory
	}{
		{"cache on the state's redis", "  cache_params: {type: redis, ttl: 60, namespace: gw}\n", state},
		{"cache on another redis", "  cache_params: {type: redis, host: " + oh + ", port: " + op + ", namespace: gw}\n", other},
		{"cache by url", "  cache_params: {type: redis, url: 'redis://" + other.Addr() + "/0', namespace: gw}\n", other},
		{"local cache", "  cache_params: {type: local}\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state.FlushAll()
			other.FlushAll()
			up := openaitest.NewServer()
			defer up.Close()
			yaml := `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k, rpm: 50}
router_settings:
  redis_host: ` + sh + `
  redis_port: ` + sp + `
litellm_settings:
  cache: true
` + tt.cache
			cfg, err := Parse([]byte(yaml), env("FAKE_BASE", up.URL))
			if err != nil {
				t.Fatal(err)
			}
			rt, closeRouter, err := cfg.NewRouter()
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(handler.New(rt, cfg.HandlerOptions()...))
			defer srv.Close()

			s1, h1, b1 := post(t, srv, cacheMe)
			s2, h2, b2 := post(t, srv, cacheMe)
			if s1 != 200 || s2 != 200 || b1 != b2 {
				t.Fatalf("answers %d %d differ:\n%s\n%s", s1, s2, b1, b2)
			}
			if h1.Get(router.HeaderCacheHit) == "true" || h2.Get(router.HeaderCacheHit) != "true" {
				t.Errorf("cache hit headers %q %q, want a miss then a hit", h1.Get(router.HeaderCacheHit), h2.Get(router.HeaderCacheHit))
			}
			if n := len(up.Requests()); n != 1 {
				t.Errorf("the upstream had %d requests, want 1", n)
			}
			for _, mr := range []*miniredis.Miniredis{state, other} {
				n := len(keys(mr, "gw:resp:"))
				if want := mr == tt.answers; (n == 1) != want {
					t.Errorf("%d cached answers on %s (keys %v)", n, mr.Addr(), mr.Keys())
				}
			}

			sy := rt.SharedState()
			if sy == nil {
				t.Fatal("no shared state")
			}
			if err := sy.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if got := keys(state, "switchyard:{"); len(got) == 0 {
				t.Errorf("no router state in the state's Redis: %v", state.Keys())
			}
			if got := keys(other, "switchyard:{"); len(got) != 0 {
				t.Errorf("router state in the cache's Redis: %v", got)
			}

			srv.Close()
			if err := closeRouter(); err != nil {
				t.Errorf("closeRouter: %v", err)
			}
			if err := closeRouter(); err != nil {
				t.Errorf("closeRouter again: %v", err)
			}
			waitNoConnections(t, state)
			waitNoConnections(t, other)
		})
	}
}

// TestNewRouterCallerOptionsWin: the caller's options come after the
// file's, so a WithResponseCache(nil, ...) of the caller's turns the
// file's cache off.
func TestNewRouterCallerOptionsWin(t *testing.T) {
	up := openaitest.NewServer()
	defer up.Close()
	_, _, srv := serve(t, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k}
litellm_settings:
  cache: true
  cache_params: {type: local}
`, up, router.WithResponseCache(nil, respcache.Policy{}))
	post(t, srv, cacheMe)
	if _, h, _ := post(t, srv, cacheMe); h.Get(router.HeaderCacheHit) == "true" {
		t.Error("answered from the file's cache, which the caller turned off")
	}
	if n := len(up.Requests()); n != 2 {
		t.Errorf("the upstream had %d requests, want 2", n)
	}
}

// TestNewRouterWithoutRedis: no Redis in the file, no shared state.
func TestNewRouterWithoutRedis(t *testing.T) {
	up := openaitest.NewServer()
	defer up.Close()
	_, rt, _ := serve(t, "model_list:\n  - {model_name: a, litellm_params: {model: openai/a, api_base: os.environ/FAKE_BASE}}\n", up)
	if rt.SharedState() != nil {
		t.Error("shared state without redis_host")
	}
}

// TestHandlerOptions serves the file's handler options: the master key is
// required, visible aliases are listed and hidden ones not, the client's
// OpenAI-Organization goes upstream with forward_openai_org_id, and tags
// route with enable_tag_filtering only.
func TestHandlerOptions(t *testing.T) {
	for _, tt := range []struct {
		name         string
		general      string
		tagFiltering bool
	}{
		{"on", "general_settings:\n  master_key: sk-master\n  forward_openai_org_id: true\n", true},
		{"off", "general_settings:\n  master_key: sk-master\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eu, us := openaitest.NewServer(), openaitest.NewServer()
			defer eu.Close()
			defer us.Close()
			yaml := `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k, tags: [eu]}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ` + us.URL + `, api_key: k, tags: [us]}
router_settings:
  routing_strategy_args: {seed: 7}
  enable_tag_filtering: ` + map[bool]string{true: "true", false: "false"}[tt.tagFiltering] + `
  model_group_alias:
    gpt-4: gpt-4o
    internal: {model: gpt-4o, hidden: true}
` + tt.general
			_, _, srv := serve(t, yaml, eu)
			const key = "Bearer sk-master"

			if status, _, body := post(t, srv, cacheMe); status != http.StatusUnauthorized {
				t.Errorf("without the master key: %d %s", status, body)
			}
			if status, _, body := post(t, srv, cacheMe, "Authorization", "Bearer sk-other"); status != http.StatusUnauthorized {
				t.Errorf("with another key: %d %s", status, body)
			}
			if status, _, body := post(t, srv, `{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}`,
				"Authorization", key, "OpenAI-Organization", "org-client"); status != 200 {
				t.Fatalf("with the master key, through the alias: %d %s", status, body)
			}

			req, _ := http.NewRequest("GET", srv.URL+"/v1/models", nil)
			req.Header.Set("Authorization", key)
			status, _, body := do(t, srv, req)
			var models struct {
				Data []struct{ ID string } `json:"data"`
			}
			_ = json.Unmarshal([]byte(body), &models)
			var ids []string
			for _, m := range models.Data {
				ids = append(ids, m.ID)
			}
			if status != 200 || !slices.Equal(ids, []string{"gpt-4", "gpt-4o"}) {
				t.Errorf("models %d %v, want the visible alias gpt-4 and gpt-4o", status, ids)
			}

			var orgs []string
			for _, s := range []*openaitest.Server{eu, us} {
				for _, r := range s.Requests() {
					orgs = append(orgs, r.Header.Get("OpenAI-Organization"))
				}
			}
			if want := map[bool]string{true: "org-client", false: ""}[tt.tagFiltering]; !slices.Equal(orgs, []string{want}) {
				t.Errorf("OpenAI-Organization upstream %q, want %q", orgs, want)
			}

			eu.ResetStats()
			us.ResetStats()
			for range 20 {
				if status, _, body := post(t, srv, `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"metadata":{"tags":["us"]}}`,
					"Authorization", key); status != 200 {
					t.Fatalf("tagged request: %d %s", status, body)
				}
			}
			toEU, toUS := len(eu.Requests()), len(us.Requests())
			if tt.tagFiltering && (toEU != 0 || toUS != 20) || !tt.tagFiltering && (toEU == 0 || toUS == 0) {
				t.Errorf("requests tagged us went %d to eu and %d to us, tag filtering %v", toEU, toUS, tt.tagFiltering)
			}
		})
	}
}

// TestHandlerOptionsWithoutMasterKey: no master key, no key required.
func TestHandlerOptionsWithoutMasterKey(t *testing.T) {
	up := openaitest.NewServer()
	defer up.Close()
	_, _, srv := serve(t, "model_list:\n  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k}}\n", up)
	if status, _, body := post(t, srv, cacheMe); status != 200 {
		t.Errorf("chat: %d %s", status, body)
	}
}

// TestRequireAuthForMetrics: litellm_settings.require_auth_for_metrics_endpoint
// puts /metrics and /health/readiness behind the master key; liveness
// stays open; without the setting both are open.
func TestRequireAuthForMetrics(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			up := openaitest.NewServer()
			defer up.Close()
			yaml := "model_list:\n  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k}}\n" +
				"general_settings: {master_key: sk-master}\n"
			if on {
				yaml += "litellm_settings: {require_auth_for_metrics_endpoint: true}\n"
			}
			cfg, _, srv := serve(t, yaml, up)
			if cfg.RequireAuthForMetrics != on {
				t.Errorf("RequireAuthForMetrics = %v", cfg.RequireAuthForMetrics)
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("warnings %v", cfg.Warnings)
			}
			want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusOK}[on]
			for _, tt := range []struct {
				path, key string
				want      int
			}{
				{"/health/readiness", "", want},
				{"/health/readiness", "Bearer sk-master", http.StatusOK},
				{"/health/liveness", "", http.StatusOK},
			} {
				req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
				if tt.key != "" {
					req.Header.Set("Authorization", tt.key)
				}
				if status, _, body := do(t, srv, req); status != tt.want {
					t.Errorf("%s with key %q: %d %s, want %d", tt.path, tt.key, status, body, tt.want)
				}
			}
		})
	}
}
