package openaitest

import (
	"encoding/json"
	"net/http"
)

// sseWriter writes a server-sent event stream, applying the stream timing
// and the stream faults. Not safe for concurrent use.
type sseWriter struct {
	c       *call
	rc      *http.ResponseController
	buf     []byte
	events  int  // data events written
	paced   bool // the first content event has waited for TTFT
	stopped bool // the stream ended early (client gone, fault)
	named   bool // responses-style stream: errors are "event: error"
}

// startSSE writes the stream's headers and flushes them.
func (c *call) startSSE(named bool) *sseWriter {
	c.setHeaders("text/event-stream; charset=utf-8", -1)
	hd := c.w.Header()
	hd["Cache-Control"] = []string{"no-cache"}
	c.status = http.StatusOK
	c.w.WriteHeader(http.StatusOK)
	s := &sseWriter{c: c, rc: http.NewResponseController(c.w), named: named}
	_ = s.rc.Flush()
	return s
}

// pace waits before a content event: TTFT before the first, the gap
// before later ones. It reports false when the stream must stop.
func (s *sseWriter) pace() bool {
	if s.stopped {
		return false
	}
	d := s.c.h.cfg.gap
	if !s.paced {
		s.paced, d = true, s.c.h.cfg.ttft
	}
	if !s.c.sleep(d) {
		s.stopped = true
	}
	return !s.stopped
}

// send writes one event: "event: name" when name is set, and v as JSON
// data. It reports false when the stream must stop.
func (s *sseWriter) send(name string, v any) bool {
	if s.stopped {
		return false
	}
	c := s.c
	if c.fault == FaultStreamStall && s.events >= c.faultCfg.AfterChunks {
		s.stopped = true
		_ = s.rc.Flush()
		select {
		case <-c.r.Context().Done():
		case <-c.h.closing:
			abort()
		}
		return false
	}
	if c.fault == FaultStreamCut || c.fault == FaultStreamError {
		if s.events >= c.faultCfg.AfterChunks {
			s.stopped = true
			if c.fault == FaultStreamCut {
				_ = s.rc.Flush()
				abort()
			}
			s.sendError()
			return false
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.stopped = true
		return false
	}
	if c.fault == FaultTruncatedJSON && s.events == 0 {
		b = b[:len(b)/2]
	}
	return s.write(name, b)
}

func (s *sseWriter) write(name string, data []byte) bool {
	s.buf = s.buf[:0]
	if name != "" {
		s.buf = append(s.buf, "event: "...)
		s.buf = append(s.buf, name...)
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, "data: "...)
	s.buf = append(s.buf, data...)
	s.buf = append(s.buf, "\n\n"...)
	if _, err := s.c.w.Write(s.buf); err != nil {
		s.stopped = true
		return false
	}
	if err := s.rc.Flush(); err != nil {
		s.stopped = true
		return false
	}
	s.events++
	return true
}

// sendError writes the mid-stream error event of FaultStreamError.
func (s *sseWriter) sendError() {
	s.c.code = "server_error"
	if s.named {
		b, _ := json.Marshal(struct {
			Type    string     `json:"type"`
			Code    string     `json:"code"`
			Message string     `json:"message"`
			Param   nullString `json:"param"`
			Seq     int        `json:"sequence_number"`
		}{"error", "server_error", serverErrorMessage, "", s.events})
		s.write("error", b)
		return
	}
	b, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{apiError{Message: serverErrorMessage, Type: "server_error"}})
	s.write("", b)
}

// done writes the "[DONE]" sentinel that ends chat and completion streams.
func (s *sseWriter) done() {
	if !s.stopped {
		s.write("", []byte("[DONE]"))
	}
}

// seq returns the sequence number for the next responses event.
func (s *sseWriter) seq() int { return s.events }
