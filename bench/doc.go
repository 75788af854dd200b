// Package bench is Switchyard's benchmark suite: it measures how fast the
// router is (strategy picks, per-request overhead over a direct provider
// call, the HTTP gateway, memory) and how well it routes (caller success,
// upstream 429s, retries, latency and evenness across API keys under load,
// with and without failing keys), reproducibly, with one command:
//
//	go test -run '^$' -bench . -benchmem ./bench/
//
// The package holds benchmarks only; README.md lists the latest results,
// regenerated from the benchmark output by ./bench/cmd/report.
//
// Routing-quality benchmarks (BenchmarkQuality) drive the real router, its
// default OpenAI client and the fake upstream of provider/openaitest over
// loopback HTTP, on a simulated clock shared by the router and the
// upstream's rate-limit buckets: a cooperative scheduler runs one request
// goroutine at a time and moves the clock to the next arrival or the next
// simulated response, so minutes of traffic at realistic latencies run in
// a second of real time and give the same numbers on every run.
package bench
