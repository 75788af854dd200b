package openaitest

import (
	"io"
	"net/http"
	"strings"
)

// endpoint is one operation the fake serves.
type endpoint uint8

const (
	epUnknown endpoint = iota
	epChat
	epCompletions
	epEmbeddings
	epResponses
	epTranscriptions
	epModels
	numEndpoints
)

var endpointNames = [numEndpoints]string{"unknown", "chat", "completions", "embeddings", "responses", "transcriptions", "models"}

func (e endpoint) String() string {
	if e < numEndpoints {
		return endpointNames[e]
	}
	return "unknown"
}

// route sets the endpoint and the Azure details from the path.
func (c *call) route() {
	p := c.r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/openai/"); ok {
		c.azure = true
		switch {
		case strings.HasPrefix(rest, "deployments/"):
			dep, op, found := strings.Cut(rest[len("deployments/"):], "/")
			if !found || dep == "" {
				return
			}
			c.deployment, c.needVersion, p = dep, true, "/"+op
		case strings.HasPrefix(rest, "v1/"):
			p = rest[len("v1"):]
		default:
			c.needVersion, p = true, "/"+rest
		}
	} else if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		p = "/" + rest
	}
	switch p {
	case "/chat/completions":
		c.ep = epChat
	case "/completions":
		c.ep = epCompletions
	case "/embeddings":
		c.ep = epEmbeddings
	case "/responses":
		c.ep = epResponses
	case "/audio/transcriptions":
		c.ep = epTranscriptions
	case "/models":
		c.ep = epModels
	default:
		if id, ok := strings.CutPrefix(p, "/models/"); ok && id != "" {
			c.ep, c.modelID = epModels, id
		}
	}
	want := http.MethodPost
	if c.ep == epModels {
		want = http.MethodGet
	}
	if c.r.Method != want {
		c.ep = epUnknown
	}
}

// readBody reads r whole, allocating once when the length n is known.
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 || n > maxBody {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, n+1) // one spare byte: reading EOF must not grow
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}
