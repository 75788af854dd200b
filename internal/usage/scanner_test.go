package usage

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// scanAll feeds body to a Scanner in chunks of n bytes.
func scanAll(body []byte, n int) provider.Usage {
	var s Scanner
	for len(body) > 0 {
		k := min(n, len(body))
		_, _ = s.Write(body[:k])
		body = body[k:]
	}
	return s.Usage()
}

func TestScannerMatchesFromBody(t *testing.T) {
	big := strings.Repeat(`-0.0123456789,`, 5000) + "0"
	bodies := []string{
		`{"id":"x","choices":[{"message":{"content":"a \"usage\": {\"prompt_tokens\":99}"}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
		`{"usage":{"prompt_tokens":1,"total_tokens":1},"object":"list"}`,
		`{"object":"list","data":[{"embedding":[` + big + `],"usage":{"prompt_tokens":50}}],"model":"m","usage":{"prompt_tokens":12,"total_tokens":12}}`,
		`{"response":{"usage":{"input_tokens":5}},"usage":{"input_tokens":9,"output_tokens":30,"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":20}}}`,
		`{"usage":null}`,
		`{"usage":{"prompt_tokens":2},"usage":{"prompt_tokens":5}}`,
		`{"usage":{"prompt_tokens":2},"usage":null}`,
		`{"usag":{"prompt_tokens":2},"usages":{"prompt_tokens":3}}`,
		`{"a\\":"usage","usage":{"prompt_tokens":8}}`,
		`{"a":"x\\\"y","usage" : { "prompt_tokens" : 6 , "x":[1,{"y":"}"}] } }`,
		"{\n  \"usage\": {\"completion_tokens\": 4}\n}",
		`[{"usage":{"prompt_tokens":1}}]`,
		`<html>not json</html>`,
		``,
	}
	for _, b := range bodies {
		want := FromBody([]byte(b))
		for _, n := range []int{1, 2, 3, 7, 64, 1 << 20} {
			if got := scanAll([]byte(b), n); got != want {
				t.Errorf("chunks of %d: %.80s...: got %+v, want %+v", n, b, got, want)
			}
		}
	}
}

func TestScannerWithoutUsage(t *testing.T) {
	tests := []string{
		`{"usage":{"prompt_tokens":3`,                                               // cut inside the object
		`{"usage":{"prompt_tokens":3}}}]`,                                           // nesting goes wrong after it
		`{"usage":{"pad":"` + strings.Repeat("x", MaxRaw) + `","prompt_tokens":3}}`, // too large to be usage
		`{"us\u0061ge":{"prompt_tokens":3}}`,
	}
	for _, b := range tests {
		if got := scanAll([]byte(b), 5); got != (provider.Usage{}) {
			t.Errorf("%.60s: got %+v, want none", b, got)
		}
	}
}

func TestScannerAllocations(t *testing.T) {
	body := []byte(`{"data":[{"embedding":[0.1,0.2,"s\"t"]}],"usage":{"prompt_tokens":3,"total_tokens":3}}`)
	var s Scanner
	_, _ = s.Write(body) // the object's buffer grows once
	n := testing.AllocsPerRun(100, func() {
		_, _ = s.Write(body[:1])
		_, _ = s.Write(body[1:])
	})
	if n != 0 {
		t.Errorf("Write allocates %v times", n)
	}
}

func BenchmarkScanner(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"object":"list","data":[`)
	for buf.Len() < 8<<20 {
		buf.WriteString(`{"object":"embedding","index":0,"embedding":[` + strings.Repeat(`-0.012345678,`, 1000) + `0]},`)
	}
	buf.WriteString(`{"index":1}],"usage":{"prompt_tokens":7,"total_tokens":7}}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var s Scanner
		for p := body; len(p) > 0; {
			k := min(32<<10, len(p))
			_, _ = s.Write(p[:k])
			p = p[k:]
		}
		if s.Usage().PromptTokens != 7 {
			b.Fatal("no usage")
		}
	}
}
