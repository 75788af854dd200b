package openaitest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func TestPadding(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		const pad = 1<<20 + 3
		plain := openaitest.NewServer()
		defer plain.Close()
		srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: pad, Chunked: chunked}))
		defer srv.Close()
		body := `{"model":"text-embedding-3-small","input":"hello"}`
		want := post(t, plain, "/embeddings", "sk-x", body)
		got := post(t, srv, "/embeddings", "sk-x", body)
		if got.status != 200 || len(got.body) != len(want.body)+pad {
			t.Fatalf("chunked %v: status %d, %d bytes; want 200, %d", chunked, got.status, len(got.body), len(want.body)+pad)
		}
		if cl := got.header.Get("Content-Length"); (cl == "") != chunked {
			t.Errorf("chunked %v: Content-Length %q", chunked, cl)
		}
		m := got.json(t)
		if n := len(m["x_padding"].([]any)); n < pad/len("-0.0123456789,") {
			t.Errorf("x_padding holds %d numbers", n)
		}
		if path(m, "usage", "prompt_tokens") != path(want.json(t), "usage", "prompt_tokens") {
			t.Errorf("usage %v", m["usage"])
		}
		if !strings.HasPrefix(string(got.body), `{"x_padding":[`) {
			t.Errorf("padding is not first: %.40s", got.body)
		}
	}
}

func TestFaultBodyCut(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20}))
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultBodyCut, Count: 1})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-x")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || resp.ContentLength < 1<<20 || n != resp.ContentLength/2 {
		t.Errorf("read %d of %d bytes, err %v; want half and an error", n, resp.ContentLength, err)
	}
	// Used up: the next answer is whole.
	if r := post(t, srv, "/chat/completions", "sk-x", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`); r.status != 200 || len(r.body) < 1<<20 {
		t.Errorf("after the fault: %d, %d bytes", r.status, len(r.body))
	}
}
