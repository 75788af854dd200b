package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchyard-go/switchyard/provider"
)

// refParse is a deliberately simple reference parser working on the whole
// input at once: split into lines on CRLF, LF or CR, then apply the field
// rules. It mirrors SSEReader's one deviation from the standard (a pending
// event is delivered at the end of the input).
func refParse(in string) []provider.Event {
	in = strings.TrimPrefix(in, "\xEF\xBB\xBF")
	var lines []string
	for len(in) > 0 {
		i := strings.IndexAny(in, "\r\n")
		if i < 0 {
			lines = append(lines, in)
			break
		}
		lines = append(lines, in[:i])
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]
	}
	var (
		out     []provider.Event
		name    string
		data    strings.Builder
		hasData bool
	)
	dispatch := func() {
		d := data.String()
		out = append(out, provider.Event{Name: name, Data: []byte(d[:len(d)-1])})
		name, hasData = "", false
		data.Reset()
	}
	for _, l := range lines {
		switch {
		case l == "":
			if hasData {
				dispatch()
			} else {
				name = ""
			}
		case l[0] == ':':
		default:
			field, value, _ := strings.Cut(l, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
				hasData = true
			case "event":
				name = value
			}
		}
	}
	if hasData {
		dispatch()
	}
	return out
}

func readAll(t testing.TB, r *SSEReader) []provider.Event {
	t.Helper()
	var out []provider.Event
	for r.Next() {
		ev := r.Event()
		out = append(out, provider.Event{Name: ev.Name, Data: bytes.Clone(ev.Data)})
	}
	return out
}

func eventsEqual(a, b []provider.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func TestSSEReader(t *testing.T) {
	ev := func(name, data string) provider.Event { return provider.Event{Name: name, Data: []byte(data)} }
	tests := []struct {
		name string
		in   string
		want []provider.Event
	}{
		{"empty", "", nil},
		{"one chat chunk", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []provider.Event{ev("", `{"a":1}`), ev("", "[DONE]")}},
		{"CRLF", "data: x\r\n\r\ndata: y\r\n\r\n", []provider.Event{ev("", "x"), ev("", "y")}},
		{"lone CR", "data: x\r\rdata: y\r\r", []provider.Event{ev("", "x"), ev("", "y")}},
		{"multi-line data", "data: a\ndata: b\ndata:c\n\n", []provider.Event{ev("", "a\nb\nc")}},
		{"named events", "event: response.created\ndata: {}\n\nevent: response.completed\ndata: {\"x\":2}\n\n",
			[]provider.Event{ev("response.created", "{}"), ev("response.completed", `{"x":2}`)}},
		{"comments and keep-alives", ": ping\n\n:OPENROUTER PROCESSING\n\ndata: z\n\n", []provider.Event{ev("", "z")}},
		{"no trailing newline", "data: [DONE]", []provider.Event{ev("", "[DONE]")}},
		{"no trailing blank line", "data: a\n", []provider.Event{ev("", "a")}},
		{"event name without data is dropped", "event: ping\n\ndata: a\n\n", []provider.Event{ev("", "a")}},
		{"id and retry ignored", "id: 7\nretry: 100\ndata: a\n\n", []provider.Event{ev("", "a")}},
		{"only one leading space stripped", "data:  two\n\n", []provider.Event{ev("", " two")}},
		{"field without colon", "data\n\n", []provider.Event{ev("", "")}},
		{"BOM", "\xEF\xBB\xBFdata: a\n\n", []provider.Event{ev("", "a")}},
		{"colon in value", "data: {\"k\":\"v:w\"}\n\n", []provider.Event{ev("", `{"k":"v:w"}`)}},
		{"unknown field", "foo: bar\ndata: a\n\n", []provider.Event{ev("", "a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "one byte"} {
				var src io.Reader = strings.NewReader(tt.in)
				if mode == "one byte" {
					src = iotest.OneByteReader(src)
				}
				r := NewSSEReader(src)
				got := readAll(t, r)
				if err := r.Err(); err != nil {
					t.Fatalf("%s: Err = %v", mode, err)
				}
				if !eventsEqual(got, tt.want) {
					t.Errorf("%s: got %q, want %q", mode, got, tt.want)
				}
				if ref := refParse(tt.in); !eventsEqual(ref, tt.want) {
					t.Errorf("reference parser disagrees with the table: %q", ref)
				}
			}
		})
	}
}

func TestSSEReaderLongLine(t *testing.T) {
	big := strings.Repeat("x", 5<<20) // 5 MiB, far beyond the 16 KiB buffer
	in := "data: " + big + "\n\ndata: after\n\n"
	r := NewSSEReader(strings.NewReader(in))
	got := readAll(t, r)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if len(got) != 2 || string(got[0].Data) != big || string(got[1].Data) != "after" {
		t.Fatalf("got %d events", len(got))
	}
}

func TestSSEReaderTooLarge(t *testing.T) {
	for _, in := range []string{
		"data: " + strings.Repeat("x", 1<<17) + "\n\n",                      // one long line
		strings.Repeat("data: "+strings.Repeat("y", 1000)+"\n", 200) + "\n", // many lines
	} {
		r := NewSSEReader(strings.NewReader(in))
		r.MaxEventBytes = 64 << 10
		if r.Next() {
			t.Fatal("Next = true for an oversized event")
		}
		if !errors.Is(r.Err(), ErrEventTooLarge) {
			t.Fatalf("Err = %v, want ErrEventTooLarge", r.Err())
		}
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)))
	if !r.Next() || string(r.Event().Data) != "a" {
		t.Fatal("first event missing")
	}
	if r.Next() {
		t.Fatalf("Next = true after a read error, event %q", r.Event().Data)
	}
	if !errors.Is(r.Err(), boom) {
		t.Fatalf("Err = %v, want boom", r.Err())
	}
	if r.Next() {
		t.Fatal("Next = true after the end")
	}
}

// chunkReader returns the input in pieces whose sizes come from sizes,
// cycling, so that line ends fall at every position of a read.
type chunkReader struct {
	in    []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])%64 + 1
		c.i++
	}
	n = min(n, len(p), len(c.in))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

func FuzzSSE(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"event: x\r\ndata: y\r\n\r\n",
		"data: a\rdata: b\r\r\rdata: c",
		"\xEF\xBB\xBF: c\ndata\ndata:\n\n",
		"data: a\r\r\n\r\nevent: e\r",
		"id: 1\nretry: x\nevent: e\ndata:  v\n\n\n\n",
	} {
		f.Add([]byte(s), []byte{3, 1, 7})
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		r := NewSSEReader(&chunkReader{in: in, sizes: sizes})
		r.MaxEventBytes = 1 << 20
		got := readAll(t, r)
		if err := r.Err(); err != nil {
			t.Fatalf("Err = %v", err)
		}
		if want := refParse(string(in)); !eventsEqual(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func BenchmarkSSEReader(b *testing.B) {
	var buf bytes.Buffer
	for range 100 {
		buf.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hello"},"finish_reason":null}]}` + "\n\n")
	}
	buf.WriteString("data: [DONE]\n\n")
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	rd := bytes.NewReader(in)
	for b.Loop() {
		rd.Reset(in)
		r := NewSSEReader(rd)
		for r.Next() {
		}
	}
}
