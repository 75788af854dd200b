package handler

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/internal/heappeak"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

const embedReqBody = `{"model":"text-embedding-3-small","input":["some text to embed"]}`

// tailWriter counts what it is given and keeps the last bytes.
type tailWriter struct {
	n    int64
	tail []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.tail = append(w.tail, p[max(0, len(p)-256):]...)
	w.tail = w.tail[max(0, len(w.tail)-256):]
	return len(p), nil
}

// vmHWM is the process's peak resident set (Linux), 0 when unknown.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Eight concurrent 100 MB answers pass through the gateway without being
// held: what the process allocates meanwhile, and its heap, stay far
// below one answer's size. (Under the race detector, 20 MB answers.)
func TestPassThroughMemory(t *testing.T) {
	size := 100 << 20
	if raceEnabled {
		size = 20 << 20
	}
	const calls, bound = 8, 64 << 20
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: size}), openaitest.WithHistory(0)}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: calls}}
	defer client.CloseIdleConnections()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heappeak.Start()
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, st.srv.URL+"/v1/embeddings", strings.NewReader(embedReqBody))
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			var w tailWriter
			if _, err := io.Copy(&w, resp.Body); err != nil {
				errs[i] = err
				return
			}
			if resp.StatusCode != 200 || w.n < int64(size) || !bytes.Contains(w.tail, []byte(`"usage"`)) {
				errs[i] = errors.New("status " + resp.Status + ", " + strconv.FormatInt(w.n, 10) + " bytes, tail " + string(w.tail))
			}
		}()
	}
	wg.Wait()
	peak := stop()
	runtime.ReadMemStats(&after)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("%d x %d MB answers: allocated %.1f MB, peak heap in use %.1f MB (%+.1f MB), process peak RSS %.1f MB",
		calls, size>>20, float64(alloc)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20), float64(vmHWM())/(1<<20))
	if alloc > bound || growth > bound {
		t.Errorf("allocated %d bytes, heap grew by %d, while passing %d x %d bytes through; want both under %d",
			alloc, growth, calls, size, bound)
	}
}

func TestPassThroughHandler(t *testing.T) {
	const size = 1 << 20
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: size})}})
	resp := st.post(t, "/v1/embeddings", embedReqBody)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || len(body) < size || resp.Header.Get(router.HeaderDeployment) != "embed-a" {
		t.Fatalf("status %d, %d bytes, header %v", resp.StatusCode, len(body), resp.Header)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d, body %d bytes: want the upstream's length", resp.ContentLength, len(body))
	}
	if resp.Header.Get("X-Ratelimit-Remaining-Requests") == "" && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", resp.Header)
	}
	// The usage read as the body passed is counted.
	if got := metricValue(t, st.reg, "switchyard_tokens_total", "deployment=embed-a", "type=prompt"); got <= 0 {
		t.Errorf("prompt tokens counted: %v, want the answer's", got)
	}
}

// A body cut while it flows reaches the client as a broken answer, and is
// not retried.
func TestPassThroughHandlerCut(t *testing.T) {
	st := newStack(t, stackConfig{
		fake:   []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20})},
		config: func(c *router.Config, _ string) { n := 2; c.Settings.NumRetries = &n },
	})
	st.fake.SetFault(openaitest.Fault{Kind: openaitest.FaultBodyCut, Count: 1})
	resp := st.post(t, "/v1/embeddings", embedReqBody)
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, read %d bytes, err %v: want a broken answer", resp.StatusCode, n, err)
	}
	if got := st.fake.Stats().Requests; got != 1 {
		t.Errorf("%d upstream requests: want 1, no retry once the body flowed", got)
	}
}

func TestMaxResponseBytes(t *testing.T) {
	const limit = 300 << 10
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			st := newStack(t, stackConfig{
				fake:    []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20, Chunked: chunked})},
				handler: []Option{WithMaxResponseBytes(limit)},
			})
			resp := st.post(t, "/v1/embeddings", embedReqBody)
			if !chunked {
				// Declared too large: refused before any byte, naming the limit.
				if resp.StatusCode != http.StatusBadGateway {
					resp.Body.Close()
					t.Fatalf("status %d, want 502", resp.StatusCode)
				}
				e := decodeError(t, resp)
				if resp.StatusCode != http.StatusBadGateway || str(e.Error.Code) != "response_too_large" || !strings.Contains(e.Error.Message, "307200-byte limit") {
					t.Fatalf("status %d, error %+v", resp.StatusCode, e.Error)
				}
				return
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil || n > limit {
				t.Fatalf("read %d bytes, err %v: want the answer cut at the %d-byte limit", n, err, limit)
			}
		})
	}
	// Without the option, the same answers pass.
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20})}})
	if resp := st.post(t, "/v1/embeddings", embedReqBody); resp.StatusCode != 200 || len(readAll(t, resp)) < 1<<20 {
		t.Errorf("without a limit: status %d", resp.StatusCode)
	}
}

// With the response cache on, an answer it stores is read whole, as
// before, and served from the cache next time.
func TestPassThroughWithCache(t *testing.T) {
	st := newStack(t, stackConfig{
		fake:   []openaitest.Option{openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20})},
		router: []router.Option{router.WithResponseCache(respcache.NewMemory(respcache.Config{MaxEntryBytes: 8 << 20}), respcache.Policy{})},
	})
	first := st.post(t, "/v1/embeddings", embedReqBody)
	a := readAll(t, first)
	second := st.post(t, "/v1/embeddings", embedReqBody)
	b := readAll(t, second)
	if first.StatusCode != 200 || !bytes.Equal(a, b) || second.Header.Get(router.HeaderCacheHit) != "true" || first.ContentLength != int64(len(a)) {
		t.Fatalf("statuses %d %d, %d and %d bytes, cache hit %q", first.StatusCode, second.StatusCode, len(a), len(b), second.Header.Get(router.HeaderCacheHit))
	}
	if got := st.fake.Stats().Requests; got != 1 {
		t.Errorf("%d upstream requests, want 1", got)
	}
}
