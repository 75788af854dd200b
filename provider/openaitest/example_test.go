package openaitest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// A test points its code at srv.URL, then asserts on the answers, the
// rate-limit headers, injected faults and the traffic the upstream saw.
func ExampleNewServer() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := openaitest.NewServer(
		openaitest.WithClock(func() time.Time { return now }),
		openaitest.WithKey("sk-test", openaitest.KeyConfig{RPM: 60, TPM: 10000}),
	)
	defer srv.Close()

	chat := func() (*http.Response, string) {
		body := `{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := chat()
	var out struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	_ = json.Unmarshal([]byte(body), &out)
	fmt.Println(resp.StatusCode, out.Choices[0].Message.Content)
	fmt.Println("remaining requests:", resp.Header.Get("x-ratelimit-remaining-requests"),
		"reset:", resp.Header.Get("x-ratelimit-reset-requests"))

	// The next request fails once with a 503, then the upstream recovers.
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503, Count: 1})
	resp, _ = chat()
	fmt.Println(resp.StatusCode)
	resp, _ = chat()
	fmt.Println(resp.StatusCode)

	st := srv.Stats()
	fmt.Println("requests:", st.Requests, "by sk-test:", st.Keys["sk-test"].Requests, "503s:", st.Status[503])
	// Output:
	// 200 echo: Hello!
	// remaining requests: 59 reset: 1s
	// 503
	// 200
	// requests: 3 by sk-test: 3 503s: 1
}

// The options are fixed when the fake is made; an InterceptFunc changes
// anything else during a test. Here the upstream turns slow half-way
// through, the way a test of a client's timeout would want it.
func ExampleWithIntercept() {
	var slow atomic.Bool
	srv := openaitest.NewServer(openaitest.WithIntercept(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if slow.Load() {
			select {
			case <-time.After(time.Minute):
			case <-r.Context().Done(): // the client gave up
			}
		}
		return false // the fake answers as usual
	}))
	defer srv.Close()

	client := srv.Client()
	chat := func() string {
		body := `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		resp, err := client.Do(req)
		if err != nil {
			return "timed out"
		}
		resp.Body.Close()
		return resp.Status
	}
	fmt.Println(chat())
	slow.Store(true)
	client.Timeout = 50 * time.Millisecond
	fmt.Println(chat())
	// Output:
	// 200 OK
	// timed out
}
