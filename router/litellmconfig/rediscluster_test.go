package litellmconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
)

const redisModel = "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n"

// TestRedisClusterSentinelSettings: LiteLLM's redis_startup_nodes,
// service_name, sentinel_nodes and sentinel_password become sharedstate's
// Cluster and Sentinel configurations.
func TestRedisClusterSentinelSettings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want sharedstate.RedisConfig
	}{
		{"cluster", `  redis_startup_nodes: [{host: 127.0.0.1, port: 7000}, {host: "10.0.0.2", port: "7001"}]
  redis_password: hunter2
`, sharedstate.RedisConfig{Addrs: []string{"127.0.0.1:7000", "10.0.0.2:7001"}, Cluster: true, Password: "hunter2"}},
		{"one-node cluster", "  redis_startup_nodes:\n    - host: redis-0\n      port: 6379\n",
			sharedstate.RedisConfig{Addrs: []string{"redis-0:6379"}, Cluster: true}},
		{"cluster wins over host", "  redis_host: h\n  redis_startup_nodes: [{host: c, port: 1}]\n",
			sharedstate.RedisConfig{Addrs: []string{"c:1"}, Cluster: true}},
		{"sentinel", `  service_name: mymaster
  sentinel_nodes: [[127.0.0.1, 26379], ["::1", 26380]]
  sentinel_password: s3
  redis_password: hunter2
`, sharedstate.RedisConfig{MasterName: "mymaster", Addrs: []string{"127.0.0.1:26379", "[::1]:26380"}, Password: "hunter2", SentinelPassword: "s3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(redisModel+tt.yaml), env())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Redis == nil {
				t.Fatal("no Redis")
			}
			if got := cfg.Redis.config(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config %+v, want %+v", got, tt.want)
			}
			if s := cfg.Redis.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "s3") {
				t.Errorf("String() shows a password: %s", s)
			}
		})
	}
}

func TestRedisClusterSentinelErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		line    int
		setting string
		inMsg   string
	}{
		{"startup nodes not a list", "  redis_startup_nodes: h:7000\n", 4, "router_settings.redis_startup_nodes", "expected a list of {host, port}"},
		{"empty startup nodes", "  redis_startup_nodes: []\n", 4, "router_settings.redis_startup_nodes", "empty list"},
		{"node without port", "  redis_startup_nodes:\n    - {host: h}\n", 5, "router_settings.redis_startup_nodes[0]", "expected a node as {host: h, port: p}"},
		{"node bad port", "  redis_startup_nodes:\n    - {host: h, port: 99999}\n", 5, "router_settings.redis_startup_nodes[0].port", "expected a port"},
		{"node extra key", "  redis_startup_nodes:\n    - {host: h, port: 1, db: 2}\n", 5, "router_settings.redis_startup_nodes[0].db", "expected only host and port"},
		{"node empty host", "  redis_startup_nodes:\n    - {host: '', port: 1}\n", 5, "router_settings.redis_startup_nodes[0].host", "empty host"},
		{"sentinel pair of three", "  service_name: m\n  sentinel_nodes:\n    - [h, 1, 2]\n", 6, "router_settings.sentinel_nodes[0]", "or [h, p]"},
		{"sentinel without nodes", "  service_name: m\n", 4, "router_settings.sentinel_nodes", "Sentinel needs both"},
		{"sentinel without service", "  sentinel_nodes: [[h, 26379]]\n", 4, "router_settings.service_name", "Sentinel needs both"},
		{"cluster and sentinel", "  service_name: m\n  sentinel_nodes: [[h, 1]]\n  redis_startup_nodes: [{host: h, port: 2}]\n", 6, "router_settings.redis_startup_nodes", "use one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(redisModel+tt.yaml), WithFileName("config.yaml"), env())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Line != tt.line || e.Setting != tt.setting || !strings.Contains(e.Msg, tt.inMsg) {
				t.Errorf("got line %d setting %q msg %q\nwant line %d setting %q msg containing %q", e.Line, e.Setting, e.Msg, tt.line, tt.setting, tt.inMsg)
			}
		})
	}
}
