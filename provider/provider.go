package provider

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Endpoint names one operation of the OpenAI API.
type Endpoint uint8

// The endpoints a router user calls.
const (
	EndpointUnknown        Endpoint = iota
	EndpointChat                    // POST /v1/chat/completions
	EndpointCompletions             // POST /v1/completions (legacy)
	EndpointEmbeddings              // POST /v1/embeddings
	EndpointResponses               // POST /v1/responses
	EndpointTranscriptions          // POST /v1/audio/transcriptions (multipart)
)

var endpointNames = [...]string{"unknown", "chat", "completions", "embeddings", "responses", "transcriptions"}
var endpointPaths = [...]string{"", "/chat/completions", "/completions", "/embeddings", "/responses", "/audio/transcriptions"}

// String returns a short lower-case name ("chat", "embeddings", ...).
func (e Endpoint) String() string {
	if int(e) < len(endpointNames) {
		return endpointNames[e]
	}
	return "unknown"
}

// Path returns the endpoint's path below the API base URL, such as
// "/chat/completions".
func (e Endpoint) Path() string {
	if int(e) < len(endpointPaths) {
		return endpointPaths[e]
	}
	return ""
}

// Request is one call as the router hands it to a [Client]. A Request is
// read-only once passed to a Client, so the router can send the same Request
// to several deployments in turn (retries, fallbacks).
type Request struct {
	// Endpoint selects the operation.
	Endpoint Endpoint
	// Model is the model (or model group) the caller asked for. The Client
	// replaces it with its own upstream model in the body it sends.
	Model string
	// Body is the JSON request body as the caller wrote it. Only "model"
	// (and, for the Responses bridge, the shape) is changed on the way
	// out; every other field reaches the upstream unchanged. Unused for
	// multipart endpoints.
	Body []byte
	// Form carries the multipart fields of an audio transcription.
	Form *Form
	// Stream asks for a server-sent event stream.
	Stream bool
	// Header holds extra headers sent with this call only; they override
	// the deployment's own extra headers.
	Header http.Header
	// Timeout bounds this call when positive, in addition to the context.
	Timeout time.Duration
	// PassThrough asks for a large non-streaming answer as a reader
	// rather than bytes, so that it is never held whole: a Client that
	// supports it may return the 2xx answer in Response.Reader, which
	// hands the body over as it arrives. Ask only when nothing needs the
	// whole body; a Client that converts the answer (the OpenAI client's
	// Responses bridge) reads it whole anyway. The router asks for it when
	// its caller does and neither its response cache nor a content-filter
	// check needs the body (see package router).
	PassThrough bool
	// MaxResponseBytes bounds the size of the non-streaming answer when
	// positive, instead of the Client's own limit (the OpenAI client's
	// Config.MaxResponseBytes); a larger answer fails, and a Reader is cut
	// with an error at the limit.
	MaxResponseBytes int64
}

// Form is a multipart/form-data upload, such as an audio transcription.
// File is kept in memory so that a retry can send it again.
type Form struct {
	// Fields are the form's text fields other than "model" and "file",
	// sent in the order given.
	Fields []FormField
	// FileName is the uploaded file's name, such as "speech.mp3".
	FileName string
	// FileContentType is the file part's content type; empty means
	// application/octet-stream.
	FileContentType string
	// File is the file's content.
	File []byte
}

// FormField is one text field of a [Form].
type FormField struct {
	Name, Value string
}

// Response is a complete, non-streaming answer from an upstream.
type Response struct {
	// StatusCode is the upstream's HTTP status (2xx; failures are errors).
	StatusCode int
	// Header is the upstream's response header, given back to the caller.
	Header http.Header
	// Body is the JSON body, as the caller should see it. Fields the
	// library does not model are kept. Nil when Reader is set.
	Body []byte
	// Reader, when not nil, is the body instead of Body: an answer to a
	// Request with PassThrough, given as it arrives. The caller must read
	// it to its end (io.EOF) or Close it; it is not safe for concurrent
	// use. A body cut before its end, or past Request.MaxResponseBytes,
	// ends with an error, never a silent truncation. Header's
	// Content-Length, when present, is its length.
	Reader io.ReadCloser
	// Usage is the token usage read from the body, zero when absent. With
	// Reader it is read as the body passes, and set once Reader has
	// returned io.EOF.
	Usage Usage
}

// Usage counts the tokens of one call.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens is the part of PromptTokens served from the upstream's
	// prompt cache, when reported.
	CachedTokens int
	// ReasoningTokens is the part of CompletionTokens spent on reasoning,
	// when reported.
	ReasoningTokens int
}

// Event is one server-sent event of a stream.
type Event struct {
	// Name is the SSE "event:" field, empty for chat completion chunks.
	Name string
	// Data is the event's data: a JSON object. The terminating
	// "[DONE]" sentinel is not delivered as an event.
	Data []byte
}

// Stream is an open server-sent event stream. Next advances to the next
// event; after Next returns false, Err reports why (nil after a clean end,
// which for chat completions is the "[DONE]" sentinel). Close releases the
// connection and may be called at any time, more than once. A Stream is not
// safe for concurrent use.
type Stream interface {
	// Header is the upstream's response header.
	Header() http.Header
	// Next reads the next event, reporting whether there is one.
	Next() bool
	// Event returns the current event. Its Data is valid until the next
	// call to Next.
	Event() Event
	// Usage returns the usage reported so far (by the final usage chunk
	// when stream_options.include_usage was set).
	Usage() Usage
	// Err returns the error that ended the stream, nil after a clean end.
	// A stream cut off before its end yields an error, never a silent
	// truncation.
	Err() error
	// Close ends the stream and releases the connection.
	Close() error
}

// Client sends requests to one upstream deployment. Implementations must be
// safe for concurrent use.
//
// A Response returned by Do, and the header returned by a Stream's Header,
// belong to the caller, which may modify them (the router adds its own
// headers in place instead of copying the upstream's): an implementation
// must not return the same Response or header map twice.
type Client interface {
	// Do sends a non-streaming request. Failures are returned as *Error.
	Do(ctx context.Context, req *Request) (*Response, error)
	// Stream sends a streaming request and returns once the upstream has
	// answered with a stream (or an error).
	Stream(ctx context.Context, req *Request) (Stream, error)
}
