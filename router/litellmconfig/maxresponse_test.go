package litellmconfig

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

const oneModel = "model_list:\n  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: os.environ/FAKE_BASE, api_key: k}}\n"

// TestMaxResponseSize: general_settings.max_response_size_mb bounds the
// answers the handler gives, naming the limit.
func TestMaxResponseSize(t *testing.T) {
	up := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20}))
	defer up.Close()
	cfg, _, srv := serve(t, oneModel+"general_settings:\n  max_response_size_mb: 0.5\n", up)
	if cfg.MaxResponseBytes != 512<<10 {
		t.Errorf("MaxResponseBytes %d, want %d", cfg.MaxResponseBytes, 512<<10)
	}
	status, _, body := post(t, srv, cacheMe)
	if status != http.StatusBadGateway || !strings.Contains(body, "response_too_large") || !strings.Contains(body, "524288-byte limit") {
		t.Errorf("a 1 MB answer over a 0.5 MB limit: %d %.300s", status, body)
	}
	// Without the setting the same answer passes.
	_, _, srv = serve(t, oneModel, up)
	if status, _, body := post(t, srv, cacheMe); status != 200 || len(body) < 1<<20 {
		t.Errorf("without a limit: %d, %d bytes", status, len(body))
	}
}

func TestMaxResponseSizeErrors(t *testing.T) {
	for _, v := range []string{"0", "-1", "lots", "[1]"} {
		_, err := Parse([]byte(oneModel+"general_settings:\n  max_response_size_mb: "+v+"\n"), WithFileName("config.yaml"), env("FAKE_BASE", "http://x"))
		var e *Error
		if !errors.As(err, &e) || e.Setting != "general_settings.max_response_size_mb" || e.Line != 4 {
			t.Errorf("max_response_size_mb %s: error %v, want one naming the setting and line 4", v, err)
		}
	}
}
