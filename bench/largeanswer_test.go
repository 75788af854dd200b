package bench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/internal/heappeak"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
)

// largeAnswer is the size of the answer BenchmarkLargeAnswer passes.
const largeAnswer = 100 << 20

// BenchmarkLargeAnswer sends one 100 MB embeddings answer per iteration
// from the fake upstream (openaitest.WithPadding, which holds none of it)
// through the router and router/handler on loopback to a client that
// discards it:
//
//   - passthrough: the handler's default, the answer flows through
//     (provider.Request.PassThrough);
//   - buffered: the same with a response cache that would store the
//     answer (its MaxEntryBytes refuses it), so the router reads it whole,
//     as every answer was read before pass-through.
//
// MB/s is the answer's bytes per real second; peak_heap_MB the largest heap
// in use above the start (sampled every 5 ms), which for buffered is about
// the answer's size.
func BenchmarkLargeAnswer(b *testing.B) {
	srv := openaitest.NewServer(openaitest.WithHistory(0), openaitest.WithPadding(openaitest.Padding{Bytes: largeAnswer}))
	defer srv.Close()
	up := &http.Client{Transport: openai.NewTransport()}
	defer up.CloseIdleConnections()
	for _, mode := range []string{"passthrough", "buffered"} {
		b.Run(mode, func(b *testing.B) {
			opts := []router.Option{quiet()}
			if mode == "buffered" {
				opts = append(opts, router.WithResponseCache(respcache.NewMemory(respcache.Config{MaxEntryBytes: 1}), respcache.Policy{}))
			}
			r, err := router.New(router.Config{Deployments: threeKeys(srv.URL, up)}, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			gw := httptest.NewServer(handler.New(r, handler.WithLogger(slog.New(slog.DiscardHandler))))
			defer gw.Close()
			client := &http.Client{Transport: openai.NewTransport()}
			defer client.CloseIdleConnections()

			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			stop := heappeak.Start()
			b.SetBytes(largeAnswer)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/embeddings", strings.NewReader(`{"model":"g","input":"x"}`))
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || n < largeAnswer {
					b.Fatalf("status %d, %d bytes: %v", resp.StatusCode, n, err)
				}
			}
			peak := stop()
			b.ReportMetric(float64(int64(peak)-int64(base))/(1<<20), "peak_heap_MB")
		})
	}
}
