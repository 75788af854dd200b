package handler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/switchyard-go/switchyard/router"
)

// copyBufSize is the size of the buffer an answer is passed through with.
const copyBufSize = 32 << 10

// writeReader writes a non-streaming answer whose body the router passes
// through (router.Result.Reader): the headers as writeResult writes them,
// with the upstream's Content-Length when it sent one, then the body as it
// arrives, through a pooled buffer, so that the handler holds a few KiB of
// it rather than all of it. A body that fails while it flows (cut by the
// upstream, or past WithMaxResponseBytes) cannot be answered with an
// error any more: the failure is logged and the connection cut
// (http.ErrAbortHandler), so that the client sees a broken answer, never a
// silently truncated one. The router has reported the attempt by then.
func (h *Handler) writeReader(w http.ResponseWriter, res *router.Result) {
	defer res.Reader.Close()
	hdr := w.Header()
	h.copyUpstreamHeaders(hdr, res.Header)
	if ct := res.Response.Header["Content-Type"]; len(ct) > 0 {
		hdr["Content-Type"] = ct
	} else {
		hdr["Content-Type"] = jsonContentType
	}
	if cl := res.Response.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			hdr["Content-Length"] = []string{cl}
		}
	}
	status := res.StatusCode
	if status < 200 || status > 299 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	bp, _ := h.copyBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, copyBufSize)
		bp = &b
	}
	src := readErr{r: res.Reader}
	// Writer only, so that the copy goes through the pooled buffer.
	n, err := io.CopyBuffer(struct{ io.Writer }{w}, &src, *bp)
	h.copyBufs.Put(bp)
	switch {
	case src.err != nil:
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "handler: answer cut while passed through",
			slog.String("model_group", res.ModelGroup), slog.String("deployment", res.Deployment),
			slog.Int64("bytes", n), slog.String("error", src.err.Error()))
		panic(http.ErrAbortHandler)
	case err != nil: // the client went away; Close ends the upstream's answer
		h.log.LogAttrs(context.Background(), slog.LevelDebug, "handler: client went away during the answer",
			slog.String("deployment", res.Deployment), slog.Int64("bytes", n))
	}
}

// readErr remembers the error of a reader other than io.EOF, so that a
// failed read can be told from a failed write.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
