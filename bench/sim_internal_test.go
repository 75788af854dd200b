package bench

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestSimOrder checks the scheduler the quality benchmarks rely on: calls
// overlap in simulated time, each wakes exactly when its simulated
// latency has passed, in time order, ties in the order they parked.
func TestSimOrder(t *testing.T) {
	s := newSim()
	var (
		mu  sync.Mutex
		log []string
	)
	note := func(format string, args ...any) {
		mu.Lock()
		log = append(log, fmt.Sprintf("%s ", s.Now().Sub(simStart))+fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// Arrivals every 100ms; request i sleeps 250ms, 50ms, 250ms, ...
	s.run(4, 100*time.Millisecond, func(i int) {
		note("start %d", i)
		d := 250 * time.Millisecond
		if i%2 == 1 {
			d = 50 * time.Millisecond
		}
		s.sleepUntil(s.Now().Add(d))
		note("end %d", i)
	})
	want := []string{
		"0s start 0",
		"100ms start 1",
		"150ms end 1",
		"200ms start 2",
		"250ms end 0",
		"300ms start 3",
		"350ms end 3",
		"450ms end 2",
	}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("events:\n%q\nwant\n%q", log, want)
	}
}

// TestQualityReproducible runs one routing-quality simulation twice: the
// numbers must be identical, or the README's quality tables would not mean
// anything.
func TestQualityReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two simulations")
	}
	sc := qualityScenarios[1] // healthy, limits learned from headers: the most state-dependent
	a := runQuality(t, sc, "usage-based-routing")
	b := runQuality(t, sc, "usage-based-routing")
	a.upstream.Endpoints, b.upstream.Endpoints = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs differ:\n%+v\n%+v", a, b)
	}
	if a.requests == 0 || a.ok != a.requests {
		t.Errorf("%d of %d requests succeeded", a.ok, a.requests)
	}
}
