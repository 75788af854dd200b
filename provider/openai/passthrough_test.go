package openai_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
)

const embedBody = `{"model":"group","input":["a","b"]}`

func embedReq(pass bool, limit int64) *provider.Request {
	return &provider.Request{Endpoint: provider.EndpointEmbeddings, Body: []byte(embedBody), PassThrough: pass, MaxResponseBytes: limit}
}

func TestPassThrough(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20, Chunked: chunked}))
			defer srv.Close()
			c := fakeClient(t, srv, openai.Config{Model: "openai/text-embedding-3-small"})
			whole, err := c.Do(context.Background(), embedReq(false, 0))
			if err != nil || whole.Reader != nil {
				t.Fatalf("without PassThrough: %v, reader %v", err, whole.Reader)
			}
			resp, err := c.Do(context.Background(), embedReq(true, 0))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Reader == nil || resp.Body != nil {
				t.Fatalf("PassThrough: reader %v, %d body bytes; want a reader only", resp.Reader, len(resp.Body))
			}
			if resp.Usage != (provider.Usage{}) {
				t.Errorf("usage %+v before the end", resp.Usage)
			}
			if cl := resp.Header.Get("Content-Length"); !chunked && cl != strconv.Itoa(len(whole.Body)) {
				t.Errorf("Content-Length %q, want %d", cl, len(whole.Body))
			}
			got, err := io.ReadAll(resp.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, whole.Body) {
				t.Errorf("passed %d bytes, want the %d of the whole answer", len(got), len(whole.Body))
			}
			if resp.Usage != whole.Usage || resp.Usage.PromptTokens == 0 {
				t.Errorf("usage %+v, want %+v", resp.Usage, whole.Usage)
			}
			if n, err := resp.Reader.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Errorf("read after the end: %d, %v", n, err)
			}
			_ = resp.Reader.Close()
		})
	}
}

// A small answer, and one the Responses bridge converts, are read whole
// even with PassThrough.
func TestPassThroughReadsWhole(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20}))
	defer srv.Close()
	small := openaitest.NewServer()
	defer small.Close()
	resp, err := fakeClient(t, small, openai.Config{Model: "openai/e"}).Do(context.Background(), embedReq(true, 0))
	if err != nil || resp.Reader != nil || len(resp.Body) == 0 || resp.Usage.PromptTokens == 0 {
		t.Fatalf("small answer: %v, reader %v, %d bytes, usage %+v", err, resp.Reader, len(resp.Body), resp.Usage)
	}
	bridge := fakeClient(t, srv, openai.Config{Model: "openai/responses/gpt-4o"})
	resp, err = bridge.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, PassThrough: true,
		Body: []byte(`{"model":"g","messages":[{"role":"user","content":"hi"}]}`)})
	if err != nil || resp.Reader != nil || !bytes.Contains(resp.Body, []byte(`"chat.completion"`)) {
		t.Fatalf("bridge: %v, reader %v, body %.80s", err, resp.Reader, resp.Body)
	}
}

func TestPassThroughLimit(t *testing.T) {
	const limit = 200 << 10
	for _, pass := range []bool{false, true} {
		for _, chunked := range []bool{false, true} {
			name := "pass=" + strconv.FormatBool(pass) + "/chunked=" + strconv.FormatBool(chunked)
			t.Run(name, func(t *testing.T) {
				srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20, Chunked: chunked}))
				defer srv.Close()
				c := fakeClient(t, srv, openai.Config{Model: "openai/e"})
				resp, err := c.Do(context.Background(), embedReq(pass, limit))
				if err == nil && pass && chunked {
					// Not known before it flows: cut at the limit.
					var n int64
					n, err = io.Copy(io.Discard, resp.Reader)
					if n != limit {
						t.Errorf("passed %d bytes, want the %d of the limit", n, limit)
					}
				}
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.Code != "response_too_large" || !strings.Contains(err.Error(), "204800-byte limit") {
					t.Fatalf("error %v, want response_too_large naming the limit", err)
				}
			})
		}
	}
	// Config.MaxResponseBytes applies when the request sets none, and the
	// request's wins over it.
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20}))
	defer srv.Close()
	c := fakeClient(t, srv, openai.Config{Model: "openai/e", MaxResponseBytes: limit})
	if _, err := c.Do(context.Background(), embedReq(true, 0)); err == nil || !strings.Contains(err.Error(), "204800-byte limit") {
		t.Errorf("Config.MaxResponseBytes: error %v", err)
	}
	resp, err := c.Do(context.Background(), embedReq(true, 2<<20))
	if err != nil {
		t.Fatalf("Request.MaxResponseBytes over the config's: %v", err)
	}
	_ = resp.Reader.Close()
}

func TestPassThroughCut(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 1 << 20}))
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultBodyCut})
	c := fakeClient(t, srv, openai.Config{Model: "openai/e", DeploymentID: "d1"})
	resp, err := c.Do(context.Background(), embedReq(true, 0))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Reader)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.ClassConnection || pe.Deployment != "d1" || !strings.Contains(pe.Message, "cut after") {
		t.Fatalf("after %d bytes: error %v, want a connection error naming the cut", n, err)
	}
	if _, again := resp.Reader.Read(make([]byte, 1)); again != err {
		t.Errorf("read after the cut: %v, want the same error", again)
	}
	_ = resp.Reader.Close()
}

// Closing before the end releases the connection and the timeout; later
// reads fail.
func TestPassThroughCloseEarly(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithPadding(openaitest.Padding{Bytes: 4 << 20}))
	defer srv.Close()
	c := fakeClient(t, srv, openai.Config{Model: "openai/e"})
	resp, err := c.Do(context.Background(), embedReq(true, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.Reader.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := resp.Reader.Close(); err != nil {
		t.Fatal(err)
	}
	_ = resp.Reader.Close()
	if _, err := resp.Reader.Read(make([]byte, 100)); err == nil || err == io.EOF {
		t.Errorf("read after Close: %v", err)
	}
}
