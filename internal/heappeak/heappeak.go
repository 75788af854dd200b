// Package heappeak measures the peak heap in use during a piece of work,
// for tests and benchmarks that bound memory (answers passed through,
// bodies streamed) rather than time.
package heappeak

import (
	"runtime"
	"sync"
	"time"
)

// Start samples runtime.MemStats.HeapInuse every 5 ms until the returned
// function is called, which stops the sampling and returns the peak seen.
func Start() (stop func() uint64) {
	done := make(chan struct{})
	var (
		wg   sync.WaitGroup
		peak uint64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}
