package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
)

// A pass-through answer (provider.Request.PassThrough) is handed to the
// caller as it arrives, so that a 100 MB embeddings answer is never held
// whole. Do reads a first part of it (passPeek) before returning: an
// answer that ends within that part is read whole and checked as any
// other (a 200 that carries an error, a body that is not JSON), so that it
// can still be retried; only a larger one becomes a Response.Reader. The
// Reader:
//
//   - counts the bytes against the limit (Request.MaxResponseBytes, else
//     Config.MaxResponseBytes) and ends with an error at it: an answer
//     whose Content-Length is over the limit fails before Do returns;
//   - reads the top-level "usage" as the bytes pass (usage.Scanner, which
//     keeps the usage object only) and sets Response.Usage at io.EOF;
//   - ends with a *provider.Error (ClassConnection, or ClassTimeout when
//     the call's timeout ran out) when the body is cut before its end;
//   - keeps the call's timeout running until it ends or is closed: the
//     timeout bounds the whole answer, as without PassThrough.
//
// Nothing checks the grammar of a passed-through body: the caller gets it
// as the upstream sent it.

// passPeek is how much of a pass-through answer Do reads before deciding
// to hand it over: more than any chat answer's usual size, so that only
// large answers (embeddings, long completions) are passed through.
const passPeek = 32 << 10

// tooLarge is the error for an answer over the size limit; n is its
// declared size, -1 when unknown.
func tooLarge(n, limit int64) *provider.Error {
	msg := fmt.Sprintf("openai: the answer exceeds the %d-byte limit on answers (MaxResponseBytes)", limit)
	if n >= 0 {
		msg = fmt.Sprintf("openai: the answer of %d bytes exceeds the %d-byte limit on answers (MaxResponseBytes)", n, limit)
	}
	return &provider.Error{Class: provider.ClassConnection, Code: "response_too_large", Message: msg}
}

// passThrough reads the first part of a 2xx answer. It returns either the
// Response with a Reader that passes the rest through (owning resp.Body
// and cancel from then on), or the whole body when it ended within that
// part, or an error.
func (c *Client) passThrough(ctx context.Context, cancel context.CancelFunc, resp *http.Response, limit int64) (*provider.Response, []byte, error) {
	n := resp.ContentLength
	if n > limit {
		_ = resp.Body.Close()
		return nil, nil, c.transportErr(ctx, tooLarge(n, limit))
	}
	if n >= 0 && n <= passPeek {
		body, err := c.readBody(resp, limit)
		if err != nil {
			return nil, nil, c.transportErr(ctx, err)
		}
		return nil, body, nil
	}
	bp := c.peeks.Get().(*[]byte)
	buf := (*bp)[:min(int64(passPeek), limit+1)]
	k, err := readUpTo(resp.Body, buf)
	switch {
	case errors.Is(err, io.EOF) && n < 0 && int64(k) <= limit: // it all fit
		_ = resp.Body.Close()
		body := bytes.Clone(buf[:k])
		c.peeks.Put(bp)
		return nil, body, nil
	case err != nil || int64(k) > limit:
		_ = resp.Body.Close()
		c.peeks.Put(bp)
		if err == nil || errors.Is(err, io.EOF) {
			err = tooLarge(n, limit)
		}
		return nil, nil, c.transportErr(ctx, err)
	}
	b := &passBody{c: c, ctx: ctx, cancel: cancel, body: resp.Body, peek: buf[:k], bp: bp, n: int64(k), limit: limit}
	_, _ = b.scan.Write(buf[:k])
	b.out = &provider.Response{StatusCode: resp.StatusCode, Header: resp.Header, Reader: b}
	return b.out, nil, nil
}

// readUpTo reads into buf until it is full or r fails (io.EOF included).
func readUpTo(r io.Reader, buf []byte) (int, error) {
	k := 0
	for k < len(buf) {
		m, err := r.Read(buf[k:])
		k += m
		if err != nil {
			return k, err
		}
	}
	return k, nil
}

// newPeek makes a buffer for the first part of a pass-through answer.
func newPeek() any {
	b := make([]byte, passPeek)
	return &b
}

// passBody is the Reader of a pass-through answer. Not safe for
// concurrent use.
type passBody struct {
	c      *Client
	ctx    context.Context // the call's, with its timeout
	cancel context.CancelFunc
	body   io.ReadCloser
	out    *provider.Response // its Usage is set at io.EOF

	peek []byte  // the first part, not yet handed out
	bp   *[]byte // its buffer, back to the pool once handed out

	n, limit int64 // bytes read from the upstream; the limit
	scan     usage.Scanner
	err      error // what every Read returns once the body has ended
}

// errBodyClosed is what Read returns after Close.
var errBodyClosed = errors.New("openai: read of a closed answer body")

func (b *passBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(b.peek) > 0 {
		k := copy(p, b.peek)
		b.peek = b.peek[k:]
		if len(b.peek) == 0 {
			b.release()
		}
		return k, nil
	}
	room := b.limit - b.n
	if int64(len(p)) > room+1 {
		p = p[:room+1]
	}
	k, err := b.body.Read(p)
	if int64(k) > room {
		k = int(room)
		err = tooLarge(-1, b.limit)
		err.(*provider.Error).Deployment = b.c.cfg.DeploymentID
	}
	b.n += int64(k)
	_, _ = b.scan.Write(p[:k])
	switch {
	case err == nil:
		return k, nil
	case err == io.EOF:
		b.out.Usage = b.scan.Usage()
		b.end(io.EOF)
		return k, io.EOF
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		e := b.c.transportErr(b.ctx, err).(*provider.Error)
		e.Message = fmt.Sprintf("openai: the answer was cut after %d bytes", b.n)
		err = e
	}
	b.end(err)
	return k, err
}

// Close releases the connection (an answer not read to its end is cut)
// and the call's timeout. It may be called at any time, more than once.
func (b *passBody) Close() error {
	if b.err == nil {
		b.end(errBodyClosed)
	}
	return nil
}

// end ends the body with err.
func (b *passBody) end(err error) {
	b.err = err
	_ = b.body.Close()
	b.cancel()
	b.release()
}

// release gives the first part's buffer back.
func (b *passBody) release() {
	if b.bp != nil {
		b.peek = nil
		b.c.peeks.Put(b.bp)
		b.bp = nil
	}
}
