package openaitest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestStatsAndHistory(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithHistory(3), openaitest.WithKey("a", openaitest.KeyConfig{}), openaitest.WithKey("b", openaitest.KeyConfig{}))
	defer srv.Close()
	for i := range 4 {
		post(t, srv, "/chat/completions", "a", chatBody("m", fmt.Sprint("msg", i), nil))
	}
	post(t, srv, "/embeddings", "b", `{"model":"e","input":"x"}`)
	post(t, srv, "/chat/completions", "nope", chatBody("m", "x", nil))
	send(t, srv, http.MethodPost, srv.URL+"/chat/completions", chatBody("m", "streamed", map[string]any{"stream": true}),
		header("Authorization", "Bearer a", "X-Custom", "v"))

	st := srv.Stats()
	want := openaitest.Stats{
		Requests:  7,
		Endpoints: map[string]int64{"chat": 6, "embeddings": 1},
		Keys:      map[string]openaitest.KeyStats{"a": {Requests: 5}, "b": {Requests: 1}, "nope": {Requests: 1}},
		Status:    map[int]int64{200: 6, 401: 1},
	}
	if st.Requests != want.Requests || fmt.Sprint(st.Endpoints) != fmt.Sprint(want.Endpoints) ||
		fmt.Sprint(st.Keys) != fmt.Sprint(want.Keys) || fmt.Sprint(st.Status) != fmt.Sprint(want.Status) ||
		st.InFlight != 0 || st.MaxInFlight != 1 {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests kept, want 3", len(reqs))
	}
	if reqs[0].Endpoint != "embeddings" || reqs[1].Status != 401 || reqs[1].ErrorCode != "invalid_api_key" || !reqs[2].Stream {
		t.Errorf("ring order: %+v", reqs)
	}
	last, ok := srv.LastRequest()
	if !ok || last.Header.Get("X-Custom") != "v" || last.Key != "a" || last.Model != "m" || last.Method != "POST" ||
		last.Path != "/v1/chat/completions" || !strings.Contains(string(last.Body), "streamed") || last.Time.IsZero() {
		t.Errorf("last %+v", last)
	}
	// Copies: changing them leaves the record alone.
	last.Header.Set("X-Custom", "changed")
	last.Body[0] = 'X'
	if again, _ := srv.LastRequest(); again.Header.Get("X-Custom") != "v" || again.Body[0] != '{' {
		t.Error("LastRequest shares its header or body with the record")
	}

	srv.ResetStats()
	if st := srv.Stats(); st.Requests != 0 || len(st.Keys) != 0 || len(st.Status) != 0 || len(srv.Requests()) != 0 {
		t.Errorf("after reset %+v", st)
	}
	if _, ok := srv.LastRequest(); ok {
		t.Error("LastRequest after reset")
	}
}

func TestHistoryDisabled(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithHistory(0))
	defer srv.Close()
	post(t, srv, "/chat/completions", "k", chatBody("m", "x", nil))
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d recorded", n)
	}
	if srv.Stats().Requests != 1 {
		t.Error("counters off with history off")
	}
}

func TestMaxInFlight(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, chatURL(srv), strings.NewReader(chatBody("m", "x", nil)))
			req.Header.Set("Authorization", "Bearer k")
			if resp, err := srv.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	waitInFlight(t, srv, 3)
	cancel()
	wg.Wait()
	waitInFlight(t, srv, 0)
	if st := srv.Stats(); st.MaxInFlight != 3 {
		t.Errorf("MaxInFlight %d", st.MaxInFlight)
	}
}

func TestIntercept(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.Contains(string(body), "teapot") {
			return false
		}
		again, _ := io.ReadAll(r.Body)
		if string(again) != string(body) {
			http.Error(w, "body not readable again", 500)
			return true
		}
		w.WriteHeader(http.StatusTeapot)
		return true
	}))
	defer srv.Close()
	if r := post(t, srv, "/chat/completions", "k", chatBody("m", "teapot", nil)); r.status != http.StatusTeapot {
		t.Errorf("intercepted: %d %s", r.status, r.body)
	}
	if r := post(t, srv, "/chat/completions", "k", chatBody("m", "coffee", nil)); r.status != 200 {
		t.Errorf("passed through: %d", r.status)
	}
	if st := srv.Stats(); st.Status[http.StatusTeapot] != 1 || st.Requests != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestTLS(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprint("http2=", h2), func(t *testing.T) {
			srv := openaitest.NewUnstartedServer()
			srv.HTTP.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			if !strings.HasPrefix(srv.URL, "https://") || !strings.HasSuffix(srv.URL, "/v1") {
				t.Fatalf("URL %q", srv.URL)
			}
			if r := post(t, srv, "/chat/completions", "k", chatBody("m", "x", nil)); r.status != 200 {
				t.Errorf("status %d", r.status)
			}
			// A cut stream surfaces as an error over HTTP/2 too.
			srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, AfterChunks: 1})
			s := stream(t, srv, chatURL(srv), chatBody("m", "a b c", map[string]any{"stream": true}), header("Authorization", "Bearer k"))
			if len(s.events) != 1 || s.readErr == nil {
				t.Errorf("cut stream: %d events, err %v", len(s.events), s.readErr)
			}
		})
	}
}

func TestNewHandler(t *testing.T) {
	h := openaitest.NewHandler(openaitest.WithReply("mounted"))
	mux := http.NewServeMux()
	mux.Handle("/upstream/", http.StripPrefix("/upstream", h))
	rec := httptest.NewRecorder()
	req, _ := http.NewRequest(http.MethodPost, "/upstream/v1/chat/completions", strings.NewReader(chatBody("m", "x", nil)))
	req.Header.Set("Authorization", "Bearer k")
	mux.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"content":"mounted"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if h.Stats().Endpoints["chat"] != 1 {
		t.Errorf("stats %+v", h.Stats())
	}
}

func TestUnstarted(t *testing.T) {
	srv := openaitest.NewUnstartedServer(openaitest.WithReply("late"))
	if srv.URL != "" {
		t.Errorf("URL %q before start", srv.URL)
	}
	srv.Close() // closing a server that never started is fine

	srv = openaitest.NewUnstartedServer(openaitest.WithReply("late"))
	srv.Start()
	defer srv.Close()
	if r := post(t, srv, "/chat/completions", "k", chatBody("m", "x", nil)); path(r.json(t), "choices", 0, "message", "content") != "late" {
		t.Errorf("%s", r.body)
	}
}
