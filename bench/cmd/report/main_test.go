package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `loadavg-start: 0.50 0.40 0.30
goos: linux
goarch: amd64
pkg: github.com/switchyard-go/switchyard/bench
cpu: Some CPU
BenchmarkPick/least-busy/n=10-2         	 1000	        40.00 ns/op	       0 B/op	       0 allocs/op
BenchmarkPick/least-busy/n=10-2         	 1000	        60.00 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/noop/do/direct-2      	 1000	         5.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/noop/do/router-2      	 1000	      1505 ns/op	     600 B/op	       6 allocs/op
BenchmarkQuality/healthy/rpm=config/usage-based-routing-2 	1	 5 ns/op	 100.0 success_%	 0.5 upstream_429_%
    quality_test.go:10: caller errors by kind: map[]
BenchmarkNew-2 	 7	 3 ns/op	 2 widgets
BenchmarkOutage/defaults-2 	1	 5 ns/op	 1.000 upstream_calls/req	 0 outage_success_%	 60.00 outage_p99_ms
--- FAIL: BenchmarkBroken
loadavg-end: 1.50 1.40 1.30
`

func TestParse(t *testing.T) {
	in, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, unit string
		want       float64
	}{
		{"Pick/least-busy/n=10", "ns/op", 50}, // -count repetitions are averaged
		{"Overhead/noop/do/router", "allocs/op", 6},
		{"Quality/healthy/rpm=config/usage-based-routing", "upstream_429_%", 0.5},
		{"New", "widgets", 2},
	} {
		if got, ok := in.get(tt.name, tt.unit); !ok || got != tt.want {
			t.Errorf("%s %s = %v, %v; want %v", tt.name, tt.unit, got, ok, tt.want)
		}
	}
	if in.procs != "2" || in.meta["cpu"] != "Some CPU" || in.meta["loadavg-start"] != "0.50 0.40 0.30" || in.meta["loadavg-end"] != "1.50 1.40 1.30" {
		t.Errorf("procs %q, meta %v", in.procs, in.meta)
	}
	if len(in.failed) != 1 {
		t.Errorf("failures %q", in.failed)
	}

	var out bytes.Buffer
	write(&out, in, machine{nproc: 2, cpu: "Some CPU", goVersion: "go1.26", date: "2026-01-02"}, DefaultCommand)
	for _, want := range []string{
		"| Router overhead, non-streaming: < 2 µs and ≤ 10 allocs over the direct call (judged on the mean) | 1.50 µs (mean), 6.00 allocs | met |",
		"| usage-based-routing at 90% of capacity: caller success 100%, upstream 429s < 1% | 100% success, 0.50% 429s | met |",
		"| New | 3.00 ns/op, 2.00 widgets |", // unknown benchmarks are kept
		"| defaults | 1.00 | 0 | – | 60.0 | – | – |",
		"--- FAIL: BenchmarkBroken",
		"0.50 0.40 0.30 at the start",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestNum(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.004, "0.004"}, {1.5, "1.50"}, {12.34, "12.3"}, {123.4, "123"}, {1234567, "1,234,567"}, {-2500, "-2,500"},
	} {
		if got := num(tt.v); got != tt.want {
			t.Errorf("num(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := ns(-2500); got != "-2.50 µs" {
		t.Errorf("ns(-2500) = %q", got)
	}
}
