// Command report turns the output of Switchyard's benchmark suite
// (package bench) into bench/README.md: the machine, the load it was under,
// the command, and one table per benchmark family with what each number
// means and whether the suite's targets were met.
//
//	go test -run '^$' -bench . -benchmem -timeout 20m ./bench/ | tee bench/results.txt
//	go run ./bench/cmd/report < bench/results.txt > bench/README.md
//
// Repeated results of one benchmark (-count) are averaged. Benchmarks that
// no section knows are listed under "Other", so the README never drops a
// number.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultCommand is the command the README says produced the results.
const DefaultCommand = "go test -run '^$' -bench . -benchmem -timeout 20m ./bench/... | tee bench/results.txt"

func main() {
	cmd := flag.String("cmd", DefaultCommand, "the command that produced the input, as the README should show it")
	date := flag.String("date", "", "the date of the run (default: today, UTC)")
	rev := flag.String("rev", "", "the commit measured (default: git rev-parse --short HEAD, when git answers)")
	flag.Parse()
	in, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if len(in.order) == 0 {
		fmt.Fprintln(os.Stderr, "report: no benchmark results on standard input")
		os.Exit(1)
	}
	if *date == "" {
		*date = time.Now().UTC().Format("2006-01-02")
	}
	if *rev == "" {
		if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
			*rev = strings.TrimSpace(string(out))
		}
	}
	m := machine{
		nproc: runtime.NumCPU(), cpu: cpuModel(), goVersion: runtime.Version(), date: *date, rev: *rev,
		goos: in.meta["goos"], goarch: in.meta["goarch"], benchCPU: in.meta["cpu"],
	}
	w := bufio.NewWriter(os.Stdout)
	write(w, in, m, *cmd)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// result is one benchmark's averaged metrics, by unit ("ns/op",
// "allocs/op", "success_%", ...).
type result struct {
	name    string
	runs    int
	metrics map[string]float64
	units   []string // in first-seen order
}

type input struct {
	meta    map[string]string // goos, goarch, pkg, cpu, loadavg-start, loadavg-end
	results map[string]*result
	order   []string
	procs   string // the -N suffix of the benchmark names (GOMAXPROCS)
	failed  []string
}

var procSuffix = regexp.MustCompile(`-(\d+)$`)

// parse reads `go test -bench` output.
func parse(r io.Reader) (*input, error) {
	in := &input{meta: map[string]string{}, results: map[string]*result{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, k := range []string{"goos", "goarch", "pkg", "cpu", "loadavg-start", "loadavg-end"} {
			if v, ok := strings.CutPrefix(line, k+":"); ok {
				if _, seen := in.meta[k]; !seen || strings.HasPrefix(k, "loadavg-end") {
					in.meta[k] = strings.TrimSpace(v)
				}
			}
		}
		if strings.HasPrefix(line, "--- FAIL:") || strings.HasPrefix(line, "FAIL") {
			in.failed = append(in.failed, line)
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's log line, or a name without results
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if m := procSuffix.FindStringSubmatch(name); m != nil {
			in.procs = m[1]
			name = strings.TrimSuffix(name, m[0])
		}
		name = strings.TrimPrefix(name, "Benchmark")
		res := in.results[name]
		if res == nil {
			res = &result{name: name, metrics: map[string]float64{}}
			in.results[name] = res
			in.order = append(in.order, name)
		}
		res.runs++
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", name, f[i], err)
			}
			unit := f[i+1]
			if _, ok := res.metrics[unit]; !ok {
				res.units = append(res.units, unit)
			}
			// running mean over -count repetitions
			res.metrics[unit] += (v - res.metrics[unit]) / float64(res.runs)
		}
	}
	return in, sc.Err()
}

type machine struct {
	nproc                     int
	cpu, goVersion, date, rev string
	goos, goarch, benchCPU    string
}

// cpuModel reads the CPU model from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// get returns a metric of a benchmark, ok false when absent.
func (in *input) get(name, unit string) (float64, bool) {
	r := in.results[name]
	if r == nil {
		return 0, false
	}
	v, ok := r.metrics[unit]
	return v, ok
}

// cell formats a metric, "–" when absent.
func (in *input) cell(name, unit string) string {
	v, ok := in.get(name, unit)
	if !ok {
		return "–"
	}
	return num(v)
}

// num formats a number with three significant digits for small values and
// thousands separators for large ones.
func num(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return group(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

// group puts commas between the thousands of an integer string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(",")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ns formats nanoseconds with a unit that keeps the number short.
func ns(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a >= 1e6:
		return num(v/1e6) + " ms"
	case a >= 1e3:
		return num(v/1e3) + " µs"
	default:
		return num(v) + " ns"
	}
}

func (in *input) nsCell(name, unit string) string {
	v, ok := in.get(name, unit)
	if !ok {
		return "–"
	}
	return ns(v)
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func write(w io.Writer, in *input, m machine, cmd string) {
	used := map[string]bool{}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Switchyard benchmarks\n\n")
	p("<!-- Generated by `go run ./bench/cmd/report < bench/results.txt > bench/README.md`. Do not edit by hand. -->\n\n")
	p("How fast the router is and how well it routes, measured by the benchmarks of this package. Reproduce with\n\n")
	p("```sh\n%s\ngo run ./bench/cmd/report < bench/results.txt > bench/README.md\n```\n\n", cmd)
	p("CI compiles and runs every benchmark once (`go test -run '^$' -bench . -benchtime 1x ./bench/...`), which checks that they work, not how fast.\n\n")

	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", m.date)
	if m.rev != "" {
		p("| commit | %s |\n", m.rev)
	}
	p("| CPU | %s, as /proc/cpuinfo names it (Go: %s); %d logical CPUs, benchmarks ran with GOMAXPROCS=%s |\n", m.cpu, orDash(m.benchCPU), m.nproc, orDash(in.procs))
	p("| OS/arch | %s/%s |\n", orDash(m.goos), orDash(m.goarch))
	p("| Go | %s |\n", m.goVersion)
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n\n", orDash(in.meta["loadavg-start"]), orDash(in.meta["loadavg-end"]))
	p("The load average counts runnable processes; with %d CPUs, a load above %d before the run means other work shared the machine and timings are noisy (higher and more spread than on an idle machine). Allocation counts and the simulated routing-quality numbers do not depend on load.\n\n", m.nproc, m.nproc)
	if len(in.failed) > 0 {
		p("**The run reported failures:**\n\n```\n%s\n```\n\n", strings.Join(in.failed, "\n"))
	}

	writeTargets(w, in)
	writePick(w, in, used)
	writeOverhead(w, in, used)
	writeQuality(w, in, used)
	writeOutage(w, in, used)
	writeRedis(w, in, used)
	writeGateway(w, in, used)
	writeMemory(w, in, used)
	writeOther(w, in, used)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

var strategies = []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"}

func writeTargets(w io.Writer, in *input) {
	type target struct{ what, got, verdict string }
	var ts []target
	// Pick at 10 and 1000 deployments, one goroutine.
	worst10, worstAllocs, worst1000 := 0.0, 0.0, 0.0
	var w10, w1000 string
	found := false
	for _, s := range strategies {
		if v, ok := in.get("Pick/"+s+"/n=10", "ns/op"); ok {
			found = true
			if v > worst10 {
				worst10, w10 = v, s
			}
			a, _ := in.get("Pick/"+s+"/n=10", "allocs/op")
			worstAllocs = max(worstAllocs, a)
		}
		if v, ok := in.get("Pick/"+s+"/n=1000", "ns/op"); ok && v > worst1000 {
			worst1000, w1000 = v, s
		}
	}
	if found {
		ts = append(ts,
			target{"Pick, 10 deployments: < 100 ns and 0 allocs (every strategy)",
				fmt.Sprintf("slowest %s (%s), %s allocs", ns(worst10), w10, num(worstAllocs)), mark(worst10 < 100 && worstAllocs == 0)},
			target{"Pick, 1000 deployments: < 1 µs (every strategy)",
				fmt.Sprintf("slowest %s (%s)", ns(worst1000), w1000), mark(worst1000 < 1000)})
	}
	if r, ok := in.get("Overhead/noop/do/router", "ns/op"); ok {
		d, _ := in.get("Overhead/noop/do/direct", "ns/op")
		ra, _ := in.get("Overhead/noop/do/router", "allocs/op")
		da, _ := in.get("Overhead/noop/do/direct", "allocs/op")
		got := fmt.Sprintf("%s (mean), %s allocs", ns(r-d), num(ra-da))
		if p, ok := in.get("Overhead/noop/do/paired", "overhead_p50_ns"); ok {
			got = fmt.Sprintf("%s (mean), %s (median), %s allocs", ns(r-d), ns(p), num(ra-da))
		}
		ts = append(ts, target{"Router overhead, non-streaming: < 2 µs and ≤ 10 allocs over the direct call (judged on the mean)",
			got, mark(r-d < 2000 && ra-da <= 10)})
	}
	q := "Quality/healthy/rpm=config/usage-based-routing"
	if s, ok := in.get(q, "success_%"); ok {
		r, _ := in.get(q, "upstream_429_%")
		ts = append(ts, target{"usage-based-routing at 90% of capacity: caller success 100%, upstream 429s < 1%",
			fmt.Sprintf("%s%% success, %s%% 429s", num(s), num(r)), mark(s >= 100 && r < 1)})
	}
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(w, "## Targets\n\n| target | result | |\n|---|---|---|\n")
	for _, t := range ts {
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.what, t.got, t.verdict)
	}
	fmt.Fprintln(w)
}

func writePick(w io.Writer, in *input, used map[string]bool) {
	sizes := []string{"3", "10", "100", "1000"}
	if !anyPrefix(in, "Pick/") {
		return
	}
	fmt.Fprintf(w, "## Strategy pick cost\n\n")
	fmt.Fprintf(w, "`BenchmarkPick`: one `Strategy.Pick` over n available deployments that carry a busy router's state (weights, rpm/tpm limits, prices, latency samples, rate-limit headers, calls in flight). \"1 goroutine\" is ns per pick; \"parallel\" runs picks on every CPU at once (RunParallel) and is wall time per pick across them, so contention shows as a larger number. Allocations are per pick.\n\n")
	fmt.Fprintf(w, "| strategy | | n=3 | n=10 | n=100 | n=1000 | allocs/op |\n|---|---|--:|--:|--:|--:|--:|\n")
	for _, s := range strategies {
		for _, par := range []string{"", "/parallel"} {
			label := "1 goroutine"
			if par != "" {
				label = "parallel"
			}
			row := []string{s, label}
			allocs := 0.0
			for _, n := range sizes {
				name := "Pick/" + s + "/n=" + n + par
				used[name] = true
				row = append(row, in.nsCell(name, "ns/op"))
				a, _ := in.get(name, "allocs/op")
				allocs = max(allocs, a)
			}
			row = append(row, num(allocs))
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
	fmt.Fprintln(w)
}

func writeOverhead(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Overhead/") {
		return
	}
	fmt.Fprintf(w, "## Router overhead per request\n\n")
	fmt.Fprintf(w, "`BenchmarkOverhead`: a call through the router (a model group of three deployments, default settings) against the same call made directly on a deployment's client. *noop* is an in-memory client that answers at once with a copy of a fixed response and its headers (OpenAI's rate-limit headers among them, which the router parses; every answer needs a header of its own, since the router adds its headers to it in place), so router − direct is the router's whole cost; *http* is provider/openai talking to the fake upstream of provider/openaitest over loopback. *stream* opens a stream, reads it to the end and closes it; TTFC is the mean time to the first chunk. *parallel* rows run on every CPU at once (wall time per call). Overhead = router − direct. A difference of means taken in separate sub-benchmarks moves with the machine's load and GC pauses, so the *paired medians* rows alternate a direct and a routed call in one loop and compare the medians (each includes the ~50 ns of reading the clock twice; the difference does not; a paired stream is opened, read to the end and closed).\n\n")
	fmt.Fprintf(w, "| client | call | direct | router | overhead | direct allocs | router allocs | extra allocs | direct TTFC | router TTFC |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range []string{"noop", "http"} {
		for _, k := range []struct{ label, d, r string }{
			{"do", "do/direct", "do/router"},
			{"do, parallel", "do/direct-parallel", "do/router-parallel"},
			{"stream", "stream/direct", "stream/router"},
		} {
			d, r := "Overhead/"+c+"/"+k.d, "Overhead/"+c+"/"+k.r
			if in.results[d] == nil && in.results[r] == nil {
				continue
			}
			used[d], used[r] = true, true
			dv, _ := in.get(d, "ns/op")
			rv, _ := in.get(r, "ns/op")
			da, _ := in.get(d, "allocs/op")
			ra, _ := in.get(r, "allocs/op")
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, k.label,
				ns(dv), ns(rv), ns(rv-dv), num(da), num(ra), num(ra-da), in.nsCell(d, "ttfc_ns"), in.nsCell(r, "ttfc_ns"))
		}
	}
	for _, c := range []string{"noop", "http"} {
		for _, k := range []struct{ label, name string }{{"do", "/do/paired"}, {"stream", "/stream/paired"}} {
			name := "Overhead/" + c + k.name
			if in.results[name] == nil {
				continue
			}
			used[name] = true
			fmt.Fprintf(w, "| %s, paired medians | %s | %s | %s | %s | | | | | |\n", c, k.label,
				in.nsCell(name, "direct_p50_ns"), in.nsCell(name, "router_p50_ns"), in.nsCell(name, "overhead_p50_ns"))
		}
	}
	fmt.Fprintln(w)
}

var qualityMetrics = []struct{ unit, head string }{
	{"success_%", "caller success %"},
	{"upstream_429_%", "upstream 429 %"},
	{"retries/req", "retries/req"},
	{"sim_p50_ms", "p50 ms (sim)"},
	{"sim_p99_ms", "p99 ms (sim)"},
	{"max_key_util_%", "busiest key util %"},
	{"min_key_util_%", "idlest key util %"},
}

func writeQuality(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Quality/") {
		return
	}
	fmt.Fprintf(w, "## Routing quality under load\n\n")
	fmt.Fprintf(w, "`BenchmarkQuality`: four API keys of one model behind one alias on the fake upstream, whose token buckets enforce each key's requests-per-minute limit: sk-a 40 rpm (400 ms median latency), sk-b 80 rpm (900 ms), sk-c 120 rpm (600 ms), sk-d 160 rpm (1.5 s); latencies vary log-normally (σ 0.25). Requests arrive evenly at 90%% of the summed limits of the keys that work, more than any one key allows. The router (default retries, cooldowns and client, over real HTTP) and the upstream share a simulated clock: seven simulated minutes of load, of which the requests arriving in minutes 2 to 6 are measured (the first minute warms up, the last keeps the load on while measured requests that wait or retry finish). Calls overlap as they would in real time (a cooperative scheduler runs one request at a time and moves the clock to the next arrival or answer), so the numbers are exactly reproducible and do not depend on the machine.\n\n")
	fmt.Fprintf(w, "- **caller success %%**: requests the caller got an answer to.\n")
	fmt.Fprintf(w, "- **upstream 429 %%**: upstream calls refused with 429 rate_limit_exceeded (the waste a good router avoids).\n")
	fmt.Fprintf(w, "- **retries/req**: retries per caller request.\n")
	fmt.Fprintf(w, "- **p50, p99 ms (sim)**: caller latency in simulated milliseconds, retries and waits included.\n")
	fmt.Fprintf(w, "- **busiest / idlest key util %%**: answers a key served over its rpm limit times the minutes measured, for the busiest and idlest working key (the faulty key of a fault scenario is left out). Near-equal values mean headroom is used evenly; above 100 means the key's bucket, full at the start of the measured minutes, was drawn down.\n\n")
	fmt.Fprintf(w, "Scenarios:\n\n")
	fmt.Fprintf(w, "- **healthy/rpm=config**: the deployments' rpm is configured, as LiteLLM users write it.\n")
	fmt.Fprintf(w, "- **healthy/rpm=headers**: no rpm configured; the router learns the limits from the x-ratelimit headers.\n")
	fmt.Fprintf(w, "- **bursty/rpm=headers**: as healthy/rpm=headers, with Poisson arrivals (independent callers: bursts and lulls) at the same mean rate.\n")
	fmt.Fprintf(w, "- **overload/rpm=config**: 120%% of the summed limits, to show behaviour past capacity: success is bounded by capacity over offered load (83%%, a little more while the keys' buckets, full at the start, drain), and callers wait up to Settings.MaxRetryWait (2 s by default) for a key to free up before failing.\n")
	fmt.Fprintf(w, "- With rpm configured, offered load at 90%% of the three other keys' capacity, and sk-b failing: **5xx** (every call answers 500), **hang** (calls never answer; every deployment has a 40 ms timeout in real time, charged as simulated time; real timeouts make this scenario the only one whose numbers can vary slightly between runs on a loaded machine), **quota-midway** (insufficient_quota from half-way through the measured minutes).\n\n")
	var scenarios []string
	for _, name := range in.order {
		rest, ok := strings.CutPrefix(name, "Quality/")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			continue
		}
		if sc := rest[:i]; !slices.Contains(scenarios, sc) {
			scenarios = append(scenarios, sc)
		}
	}
	for _, sc := range scenarios {
		fmt.Fprintf(w, "### %s\n\n| strategy |", sc)
		for _, m := range qualityMetrics {
			fmt.Fprintf(w, " %s |", m.head)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("--:|", len(qualityMetrics)))
		for _, name := range in.order {
			s, ok := strings.CutPrefix(name, "Quality/"+sc+"/")
			if !ok || strings.Contains(s, "/") {
				continue
			}
			used[name] = true
			fmt.Fprintf(w, "| %s |", s)
			for _, m := range qualityMetrics {
				fmt.Fprintf(w, " %s |", in.cell(name, m.unit))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

// outageMetrics are BenchmarkOutage's columns.
var outageMetrics = []struct{ head, unit string }{
	{"upstream calls/req", "upstream_calls/req"},
	{"outage success %", "outage_success_%"},
	{"outage p50 ms (sim)", "outage_p50_ms"},
	{"outage p99 ms (sim)", "outage_p99_ms"},
	{"recover ms (sim)", "recover_ms"},
	{"success % (whole run)", "success_%"},
}

func writeOutage(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Outage/") {
		return
	}
	fmt.Fprintf(w, "## Outage and recovery\n\n")
	fmt.Fprintf(w, "`BenchmarkOutage` (`go test -run '^$' -bench BenchmarkOutage ./bench/`): a model group of three deployments (keys of the fake upstream, 500 ms median latency, errors in 20 ms) takes 50 requests a simulated second; after one minute every deployment answers 500 for one minute, then all come back, and the load goes on for a minute, on the simulated clock of the routing-quality runs.\n\n")
	fmt.Fprintf(w, "- **upstream calls/req**: upstream calls per request arriving during the outage (above 1, retries multiplied the load on the failing upstream).\n")
	fmt.Fprintf(w, "- **outage success %%**: requests during the outage that got an answer; **outage p50, p99 ms**: simulated time until a caller had its answer or error.\n")
	fmt.Fprintf(w, "- **recover ms**: simulated time from the deployments' return to the first request from which on every request succeeded.\n\n")
	fmt.Fprintf(w, "*defaults* are today's (retry budget on, MaxRetryWait 2 s); *no-budget,maxwait=60s* are the defaults before the retry budget; *cooldown=off* rows turn cooldowns off (LiteLLM's cooldown_time: 0). With cooldowns the deployments leave rotation after a few failures and calls fail at once; the old 60 s MaxRetryWait made each sit out a cooldown first. Without cooldowns every call meets the failing upstream; errors come back in 20 ms, so about one call is in flight at a time and the retry budget lets a lone caller retry (MinRetries), as Envoy's does: it holds retries back when many calls fail at once (the router and handler tests: 50 concurrent callers cost at most 1.2 upstream calls each).\n\n")
	fmt.Fprintf(w, "| settings |")
	for _, m := range outageMetrics {
		fmt.Fprintf(w, " %s |", m.head)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("--:|", len(outageMetrics)))
	for _, name := range in.order {
		s, ok := strings.CutPrefix(name, "Outage/")
		if !ok {
			continue
		}
		used[name] = true
		fmt.Fprintf(w, "| %s |", s)
		for _, m := range outageMetrics {
			fmt.Fprintf(w, " %s |", in.cell(name, m.unit))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

func writeRedis(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Redis/") {
		fmt.Fprintf(w, "## Shared state in Redis\n\nNot measured in this run: no Redis answered at REDIS_URL (default redis://127.0.0.1:6379/0), so `BenchmarkRedis` skipped.\n\n")
		return
	}
	fmt.Fprintf(w, "## Shared state in Redis\n\n")
	fmt.Fprintf(w, "Replicas of a service share their deployments' limits, cooldowns and rate-limit headers through Redis (router.WithSharedState, a sharedstate.Syncer over a sharedstate.RedisStore), measured on a real Redis on loopback. *every-request* reserves each request in Redis (one Lua call); *batched* (the default) leases small slices of each limit and syncs in the background every 100 ms.\n\n")
	fmt.Fprintf(w, "- **round trips/req**: Redis calls per request (a pipelined sync counts once), background sync included.\n")
	fmt.Fprintf(w, "- **granted %%**: four replicas, each with its own connection pool, share one deployment limited to 600 requests per minute and together offer 1,200 within one minute; calls admitted over the limit. 100 is exact; above 100 breaks the limit and fails the benchmark (except *none*, the baseline without shared state, where each replica allows the whole limit).\n")
	fmt.Fprintf(w, "- **incidents**: times a replica gave up on Redis (a call slower than the 50 ms timeout) and went on from local state; non-zero means the other numbers are partly local.\n\n")
	if anyPrefix(in, "SharedRouter/") {
		fmt.Fprintf(w, "Through the router (`BenchmarkSharedRouter`): *overhead* is a call through a router of three deployments with limits never reached and an in-memory client (*none*: no shared state); *limit* is the four-replica test above, with calls failing instead of waiting.\n\n")
		redisTable(w, in, used, "SharedRouter/")
	}
	fmt.Fprintf(w, "The Syncer on its own (`BenchmarkRedis`), called as the router calls it: *reserve* is one Reserve+Done for a limit never reached (*local*: a Syncer over an in-process MemoryStore); *shared_limit* is the four-replica test.\n\n")
	redisTable(w, in, used, "Redis/")
}

func redisTable(w io.Writer, in *input, used map[string]bool, prefix string) {
	fmt.Fprintf(w, "| benchmark | mean | p50 | p99 | round trips/req | granted %% | incidents | allocs/op |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, name := range in.order {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		used[name] = true
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(name, prefix),
			in.nsCell(name, "ns/op"), usCell(in, name, "p50_us"), usCell(in, name, "p99_us"),
			in.cell(name, "rt/req"), in.cell(name, "granted_%"), in.cell(name, "incidents"), in.cell(name, "allocs/op"))
	}
	fmt.Fprintln(w)
}

func usCell(in *input, name, unit string) string {
	v, ok := in.get(name, unit)
	if !ok {
		return "–"
	}
	return ns(v * 1e3)
}

func writeGateway(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Gateway/") {
		return
	}
	fmt.Fprintf(w, "## HTTP gateway\n\n")
	fmt.Fprintf(w, "`BenchmarkGateway`: router/handler serving a router of three deployments on loopback, in front of a fast fake upstream, against calling that upstream directly in the same run. Client, gateway and upstream share the machine's CPUs, so req/s is the throughput of the whole chain on this machine. *latency*: one request at a time, real round-trip times; *throughput*: 8 requests in flight per CPU.\n\n")
	fmt.Fprintf(w, "| target | p50 | p99 | mean latency | req/s | allocs/req |\n|---|--:|--:|--:|--:|--:|\n")
	for _, t := range []string{"direct", "gateway"} {
		l, tp := "Gateway/latency/"+t, "Gateway/throughput/"+t
		used[l], used[tp] = true, true
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", t, usCell(in, l, "p50_us"), usCell(in, l, "p99_us"),
			in.nsCell(l, "ns/op"), in.cell(tp, "req/s"), in.cell(l, "allocs/op"))
	}
	d50, ok1 := in.get("Gateway/latency/direct", "p50_us")
	g50, ok2 := in.get("Gateway/latency/gateway", "p50_us")
	d99, _ := in.get("Gateway/latency/direct", "p99_us")
	g99, _ := in.get("Gateway/latency/gateway", "p99_us")
	if ok1 && ok2 {
		fmt.Fprintf(w, "| added by the gateway | %s | %s | | | |\n", ns((g50-d50)*1e3), ns((g99-d99)*1e3))
	}
	fmt.Fprintln(w)
}

func writeMemory(w io.Writer, in *input, used map[string]bool) {
	if !anyPrefix(in, "Memory/") {
		return
	}
	used["Memory/per_deployment"], used["Memory/steady_state"] = true, true
	fmt.Fprintf(w, "## Memory\n\n")
	fmt.Fprintf(w, "`BenchmarkMemory`: live heap (after full collections) held by a router per deployment, from a router of 10,000 deployments in 100 groups (clients not counted); and the live-heap growth over 200,000 calls through a router of 10 deployments after warm-up, with the clock moving 1 ms per call so that rate-limit windows roll over (the benchmark fails above 256 KiB: state must not accumulate).\n\n")
	fmt.Fprintf(w, "| measure | value |\n|---|--:|\n")
	fmt.Fprintf(w, "| bytes per deployment | %s B |\n", in.cell("Memory/per_deployment", "B/deployment"))
	fmt.Fprintf(w, "| heap growth over 200,000 calls | %s B |\n", in.cell("Memory/steady_state", "heap_growth_B"))
	fmt.Fprintf(w, "| heap growth per call | %s B |\n\n", in.cell("Memory/steady_state", "heap_growth_B/call"))
}

func writeOther(w io.Writer, in *input, used map[string]bool) {
	var rest []string
	for _, name := range in.order {
		if !used[name] {
			rest = append(rest, name)
		}
	}
	if len(rest) == 0 {
		return
	}
	fmt.Fprintf(w, "## Other\n\n| benchmark | results |\n|---|---|\n")
	for _, name := range rest {
		r := in.results[name]
		var parts []string
		for _, u := range r.units {
			parts = append(parts, num(r.metrics[u])+" "+u)
		}
		fmt.Fprintf(w, "| %s | %s |\n", name, strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}

func anyPrefix(in *input, prefix string) bool {
	return slices.ContainsFunc(in.order, func(n string) bool { return strings.HasPrefix(n, prefix) })
}
