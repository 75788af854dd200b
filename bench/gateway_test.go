package bench

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
)

const gatewayBody = `{"model":"g","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France?"}],"max_tokens":64}`

// BenchmarkGateway measures the OpenAI-compatible HTTP gateway
// (router/handler serving a router of three deployments) on loopback
// against a fast fake upstream, next to calling the fake upstream directly
// in the same run. Client, gateway and upstream share the machine's cores.
//
//   - latency: one request at a time; p50_us and p99_us are the client's
//     round-trip times in real microseconds;
//   - throughput: 8 requests in flight per core (RunParallel); req/s is
//     answered requests per real second.
func BenchmarkGateway(b *testing.B) {
	srv := openaitest.NewServer(openaitest.WithHistory(0))
	defer srv.Close()
	up := &http.Client{Transport: openai.NewTransport()}
	defer up.CloseIdleConnections()
	r, err := router.New(router.Config{Deployments: threeKeys(srv.URL, up)}, quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	gw := httptest.NewServer(handler.New(r, handler.WithLogger(slog.New(slog.DiscardHandler))))
	defer gw.Close()

	client := &http.Client{Transport: openai.NewTransport()}
	defer client.CloseIdleConnections()
	targets := []struct{ name, url string }{
		{"direct", srv.URL + "/chat/completions"},
		{"gateway", gw.URL + "/v1/chat/completions"},
	}
	for _, t := range targets {
		b.Run("latency/"+t.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := post(client, t.url); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds())/1e3, "p50_us")
			b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds())/1e3, "p99_us")
		})
	}
	for _, t := range targets {
		b.Run("throughput/"+t.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := post(client, t.url); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// post sends one chat completion and checks the answer.
func post(c *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(gatewayBody)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer sk-a")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("echo: What is the capital of France?")) {
		return &wrongAnswer{status: resp.StatusCode, body: body}
	}
	return nil
}

type wrongAnswer struct {
	status int
	body   []byte
}

func (e *wrongAnswer) Error() string {
	return "bench: wrong answer: status " + http.StatusText(e.status) + ": " + string(e.body)
}
