package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/switchyard-go/switchyard/provider"
)

// DefaultMaxEventBytes is the default limit on the size of one server-sent
// event (all its data lines together) and of one line: 16 MiB, several
// times the largest chunk seen in practice (a base64 image in one delta).
const DefaultMaxEventBytes = 16 << 20

// ErrEventTooLarge is returned by [SSEReader.Err] when a line or an event
// exceeds the reader's MaxEventBytes.
var ErrEventTooLarge = errors.New("provider: sse event too large")

// SSEReader reads server-sent events (the text/event-stream format) from a
// byte stream, one event at a time, without reading ahead more than its
// buffer.
//
// It follows the WHATWG parsing rules: lines end with LF, CRLF or a lone CR;
// "data:" lines of one event are joined with "\n"; "event:" names the event;
// lines starting with ":" are comments; "id:", "retry:" and unknown fields
// are ignored; a blank line ends an event; a leading byte order mark is
// skipped. Unlike the standard, an event still pending when the stream ends
// without its blank line is delivered rather than dropped, so that a server
// which omits the final newline loses nothing; callers that need to know
// whether the stream ended properly look for their own end marker (such as
// OpenAI's "[DONE]"). A lone CR ends a line only once the next LF or the end
// of the stream has been read.
//
// An SSEReader is not safe for concurrent use.
type SSEReader struct {
	// MaxEventBytes limits the size of one line and of one event's data;
	// zero means DefaultMaxEventBytes. Set it before the first Next.
	MaxEventBytes int

	br      *bufio.Reader
	long    []byte // accumulates a line longer than br's buffer
	data    []byte // data buffer of the event being read
	name    []byte // event type buffer
	hasData bool   // a data field was seen for the pending event
	ev      provider.Event
	err     error
	started bool // the BOM check was done
	eof     bool

	// Lines left over after an event ended in the middle of what one read
	// returned (lone CR line ends only).
	rest, restTmp []byte
	hasRest       bool
}

// NewSSEReader returns a reader of the events in r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{br: bufio.NewReaderSize(r, 16<<10)}
}

// Next reads the next event, reporting whether there is one. After it
// returns false, Err tells why.
func (r *SSEReader) Next() bool {
	if r.err != nil || r.br == nil {
		return false
	}
	if !r.started {
		r.started = true
		if b, err := r.br.Peek(3); err == nil && bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
			_, _ = r.br.Discard(3)
		}
	}
	for {
		if r.hasRest {
			r.hasRest = false
			if r.processLines(r.rest) {
				return true
			}
			if r.err != nil {
				return false
			}
			continue
		}
		if r.eof {
			break
		}
		line, err := r.readLine()
		if err != nil && err != io.EOF {
			r.err = err
			return false
		}
		if err == io.EOF {
			r.eof = true
			if len(line) == 0 {
				break
			}
			if line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
		} else {
			line = line[:len(line)-1] // the LF
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
		}
		if r.processLines(line) {
			return true
		}
		if r.err != nil {
			return false
		}
	}
	// End of stream: deliver a pending event, then report a clean end.
	if r.hasData {
		r.dispatch()
		return true
	}
	r.err = io.EOF
	return false
}

// processLines handles line, which may hold several lines separated by lone
// CRs, and reports whether it dispatched an event. The lines after a
// dispatching one are copied aside and handled by the next call to Next.
func (r *SSEReader) processLines(line []byte) bool {
	for {
		i := bytes.IndexByte(line, '\r')
		sub := line
		if i >= 0 {
			sub = line[:i]
		}
		dispatched := r.processLine(sub)
		if r.err != nil {
			return false
		}
		if i < 0 {
			return dispatched
		}
		line = line[i+1:]
		if dispatched {
			// line may alias r.rest; copy through a second buffer.
			r.restTmp = append(r.restTmp[:0], line...)
			r.rest, r.restTmp = r.restTmp, r.rest
			r.hasRest = true
			return true
		}
	}
}

// readLine returns the next line including its LF, or the rest of the
// stream with io.EOF. The slice is valid until the next call.
func (r *SSEReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	maxBytes := r.maxBytes()
	r.long = append(r.long[:0], line...)
	for err == bufio.ErrBufferFull {
		if len(r.long) > maxBytes {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrEventTooLarge, maxBytes)
		}
		line, err = r.br.ReadSlice('\n')
		r.long = append(r.long, line...)
	}
	if len(r.long) > maxBytes+2 { // +2: the line terminator
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrEventTooLarge, maxBytes)
	}
	return r.long, err
}

func (r *SSEReader) maxBytes() int {
	if r.MaxEventBytes > 0 {
		return r.MaxEventBytes
	}
	return DefaultMaxEventBytes
}

// processLine handles one line without its terminator and reports whether
// it dispatched an event.
func (r *SSEReader) processLine(line []byte) bool {
	if len(line) == 0 {
		if !r.hasData {
			r.name = r.name[:0]
			return false
		}
		r.dispatch()
		return true
	}
	if line[0] == ':' {
		return false
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		if len(r.data)+len(value)+1 > r.maxBytes() {
			r.err = fmt.Errorf("%w: event longer than %d bytes", ErrEventTooLarge, r.maxBytes())
			return false
		}
		r.data = append(r.data, value...)
		r.data = append(r.data, '\n')
		r.hasData = true
	case "event":
		r.name = append(r.name[:0], value...)
	}
	return false
}

// dispatch makes the pending event current and resets the buffers.
func (r *SSEReader) dispatch() {
	data := r.data[:len(r.data)-1] // the last data line's "\n"
	if string(r.name) != r.ev.Name {
		r.ev.Name = string(r.name)
	}
	r.ev.Data = data
	r.name = r.name[:0]
	r.hasData = false
	// The data buffer is reused: Data stays valid until the next Next.
	r.data = r.data[:0]
}

// Event returns the current event. Its Data is valid until the next call
// to Next.
func (r *SSEReader) Event() provider.Event { return r.ev }

// Err returns the error that ended the stream: nil after a clean end of
// input, a read error from the underlying reader, or an error wrapping
// ErrEventTooLarge.
func (r *SSEReader) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}
