package sharedstate

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestRedisConfigOptions(t *testing.T) {
	tests := []struct {
		name     string
		cfg      RedisConfig
		addrs    string
		cluster  bool
		master   string
		password string
		db       int
		tls      bool
		wantErr  bool
	}{
		{"zero value", RedisConfig{}, "127.0.0.1:6379", false, "", "", 0, false, false},
		{"url", RedisConfig{URL: "redis://:s3cret@h:6380/2"}, "h:6380", false, "", "s3cret", 2, false, false},
		{"tls url", RedisConfig{URL: "rediss://h:6380"}, "h:6380", false, "", "", 0, true, false},
		{"cluster url", RedisConfig{URL: "redis://a:1?addr=b:2", Cluster: true}, "a:1,b:2", true, "", "", 0, false, false},
		{"bad url", RedisConfig{URL: "http://x"}, "", false, "", "", 0, false, true},
		{"addr", RedisConfig{Addr: "h:1", Password: "p", DB: 3, TLS: &tls.Config{}}, "h:1", false, "", "p", 3, true, false},
		{"cluster addrs", RedisConfig{Addrs: []string{"a:1", "b:2"}}, "a:1,b:2", true, "", "", 0, false, false},
		{"one-node cluster", RedisConfig{Addrs: []string{"a:1"}, Cluster: true}, "a:1", true, "", "", 0, false, false},
		{"sentinel", RedisConfig{MasterName: "m", Addrs: []string{"s1:26379", "s2:26379"}}, "s1:26379,s2:26379", false, "m", "", 0, false, false},
		{"sentinel without addrs", RedisConfig{MasterName: "m"}, "", false, "", "", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.cfg.universalOptions()
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), "sharedstate: ") {
					t.Errorf("err %v, want a sharedstate: error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(o.Addrs, ","); got != tt.addrs || o.IsClusterMode != tt.cluster || o.MasterName != tt.master ||
				o.Password != tt.password || o.DB != tt.db || (o.TLSConfig != nil) != tt.tls {
				t.Errorf("options %+v", o)
			}
			if !o.ContextTimeoutEnabled || o.MaxRetries != -1 {
				t.Errorf("context timeouts %v, retries %d: want on, none", o.ContextTimeoutEnabled, o.MaxRetries)
			}
		})
	}
}

func TestRedisConfigStringHidesPassword(t *testing.T) {
	for _, cfg := range []RedisConfig{
		{URL: "redis://user:s3cret@h:6379/0"},
		{Addr: "h:1", Password: "s3cret"},
		{MasterName: "m", Addrs: []string{"s:1"}, Password: "s3cret", SentinelPassword: "s3cret"},
	} {
		if s := cfg.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "switchyard:") {
			t.Errorf("%s", s)
		}
	}
}
