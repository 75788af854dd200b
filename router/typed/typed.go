package typed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// Chat sends a chat completion through r and decodes the answer. It is the
// typed form of [router.Router.Do], as are Completions, Embeddings,
// Responses and Transcription: each takes the official OpenAI Go SDK's
// params (github.com/openai/openai-go/v3), by value as the SDK's own client
// does, routes them like Do, and returns the SDK's response type with the
// [*router.Result] (which group and deployment served the call, its
// attempts, the raw body and headers).
//
// Nothing is lost either way. The params are encoded with their
// MarshalJSON, so fields set with SetExtraFields (or a whole body set with
// param.SetJSON) reach the upstream as written, only "model" being
// replaced by the deployment's model. The answer is decoded with the SDK's
// UnmarshalJSON: its RawJSON() is the upstream's body, and fields the SDK
// does not model are in its JSON.ExtraFields.
//
// Params that cannot make a request (no model, an encoding error, "stream"
// set where it does not belong) are the caller's mistake: the helper
// returns an error naming the field before any deployment is tried. It
// wraps a *provider.Error of class ClassBadRequest whose Param is the
// field, so errors.As and errors.Is(err, provider.ErrBadRequest) find it.
//
// To route a typed call by tags, pass [router.WithTags]. The SDK's Metadata is a
// map of strings sent upstream as given; unlike a raw body through the
// handler, its "metadata.tags" is not read for routing.
//
// The params must not ask to stream (a "stream" extra field); use
// [ChatStream] to stream.
func Chat(ctx context.Context, r *router.Router, params openai.ChatCompletionNewParams, opts ...router.CallOption) (*openai.ChatCompletion, *router.Result, error) {
	pr, err := jsonRequest("chat", provider.EndpointChat, params, params.Model, streamRefused)
	if err != nil {
		return nil, nil, err
	}
	return doTyped[openai.ChatCompletion](ctx, r, "chat", pr, opts)
}

// Completions sends a legacy text completion, as Chat does. The params
// must not ask to stream; stream one with [router.Router.Stream].
func Completions(ctx context.Context, r *router.Router, params openai.CompletionNewParams, opts ...router.CallOption) (*openai.Completion, *router.Result, error) {
	pr, err := jsonRequest("completions", provider.EndpointCompletions, params, string(params.Model), streamRefused)
	if err != nil {
		return nil, nil, err
	}
	return doTyped[openai.Completion](ctx, r, "completions", pr, opts)
}

// Embeddings sends an embeddings request, as Chat does. Base64-encoded
// vectors (EncodingFormat "base64") are decoded into Embedding too.
func Embeddings(ctx context.Context, r *router.Router, params openai.EmbeddingNewParams, opts ...router.CallOption) (*openai.CreateEmbeddingResponse, *router.Result, error) {
	pr, err := jsonRequest("embeddings", provider.EndpointEmbeddings, params, params.Model, streamIgnored)
	if err != nil {
		return nil, nil, err
	}
	return doTyped[openai.CreateEmbeddingResponse](ctx, r, "embeddings", pr, opts)
}

// Responses sends a Responses API request, as Chat does. The params must
// not ask to stream. To stream its named events, encode the params
// yourself and use [router.Router.Stream]:
//
//	params.SetExtraFields(map[string]any{"stream": true})
//	body, err := json.Marshal(params)
//	...
//	s, err := r.Stream(ctx, &provider.Request{Endpoint: provider.EndpointResponses, Model: params.Model, Body: body, Stream: true})
func Responses(ctx context.Context, r *router.Router, params responses.ResponseNewParams, opts ...router.CallOption) (*responses.Response, *router.Result, error) {
	pr, err := jsonRequest("responses", provider.EndpointResponses, params, params.Model, streamRefused)
	if err != nil {
		return nil, nil, err
	}
	return doTyped[responses.Response](ctx, r, "responses", pr, opts)
}

// Transcription sends an audio transcription as multipart/form-data, as
// Chat does otherwise.
// params.File is read whole before the call, so that a retry or a
// fallback can send it again; it must carry a file name (an *os.File, or
// openai.File(r, "speech.mp3", "audio/mpeg")) from which the upstream
// tells the audio's format.
//
// For the plain-text response formats ("text", "srt", "vtt") the answer's
// Text is the whole body and RawJSON is empty; for "json" and
// "verbose_json" it is decoded, and the verbose fields (language,
// duration, segments, words) are in RawJSON and JSON.ExtraFields: decode
// RawJSON into an openai.TranscriptionVerbose to read them typed.
func Transcription(ctx context.Context, r *router.Router, params openai.AudioTranscriptionNewParams, opts ...router.CallOption) (*openai.Transcription, *router.Result, error) {
	pr, err := transcriptionRequest(params)
	if err != nil {
		return nil, nil, err
	}
	res, err := r.Do(ctx, pr, opts...)
	if err != nil {
		return nil, nil, err
	}
	out := new(openai.Transcription)
	if body := bytes.TrimSpace(res.Body); len(body) == 0 || body[0] != '{' {
		out.Text = string(res.Body)
		return out, res, nil
	}
	if err := out.UnmarshalJSON(res.Body); err != nil {
		return nil, res, decodeError("transcription", res, err)
	}
	return out, res, nil
}

// doTyped routes pr and decodes the answer into a T.
func doTyped[T any, PT interface {
	*T
	json.Unmarshaler
}](ctx context.Context, r *router.Router, op string, pr *provider.Request, opts []router.CallOption) (*T, *router.Result, error) {
	res, err := r.Do(ctx, pr, opts...)
	if err != nil {
		return nil, nil, err
	}
	out := PT(new(T))
	if err := out.UnmarshalJSON(res.Body); err != nil {
		return nil, res, decodeError(op, res, err)
	}
	return out, res, nil
}

// decodeError is the error of an answer that does not decode.
func decodeError(op string, res *router.Result, err error) error {
	from := res.Deployment
	if res.CacheHit {
		from = "the response cache"
	}
	return fmt.Errorf("typed: %s: decode answer from %s: %w", op, from, err)
}

// paramsError is the error of params that cannot make a request: the
// caller's mistake, found before any deployment is tried. param names the
// field, empty when the params as a whole are wrong.
func paramsError(op, param, msg string, err error) error {
	if param == "" {
		param = "params"
	}
	return fmt.Errorf("typed: %s: %w", op, &router.RequestError{Field: param, Msg: msg, Err: err})
}

// streamRule says what a helper does with the params' "stream" field.
type streamRule uint8

const (
	streamIgnored streamRule = iota // the endpoint does not stream
	streamRefused                   // "stream": true is refused
	streamForced                    // "stream": true is added
)

// sdkParams is what every SDK params struct provides.
type sdkParams interface {
	json.Marshaler
	ExtraFields() map[string]any
	Overrides() (any, bool)
}

// jsonRequest encodes params as the body of a request to ep. model is the
// params' Model field; the body's "model" is read back only when extra
// fields or an override may have changed it.
func jsonRequest(op string, ep provider.Endpoint, params sdkParams, model string, rule streamRule) (*provider.Request, error) {
	body, err := params.MarshalJSON()
	if err != nil {
		return nil, paramsError(op, "", "params do not encode", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, paramsError(op, "", "params do not encode as a JSON object", nil)
	}
	var stream json.RawMessage
	extras := params.ExtraFields()
	_, overridden := params.Overrides()
	_, hasModel := extras["model"]
	_, hasStream := extras["stream"]
	if hasModel || hasStream || overridden {
		var probe struct {
			Model  json.RawMessage `json:"model"`
			Stream json.RawMessage `json:"stream"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, paramsError(op, "", "params do not encode as a JSON object", err)
		}
		model = ""
		if len(probe.Model) > 0 && json.Unmarshal(probe.Model, &model) != nil {
			return nil, paramsError(op, "model", "model is not a string: "+string(probe.Model), nil)
		}
		stream = probe.Stream
	}
	if model == "" {
		return nil, paramsError(op, "model", "params.Model is empty", nil)
	}
	pr := &provider.Request{Endpoint: ep, Model: model, Body: body}
	switch s := string(bytes.TrimSpace(stream)); rule {
	case streamRefused:
		if s == "true" {
			what := "use Stream"
			if ep == provider.EndpointChat {
				what = "use ChatStream"
			}
			return nil, paramsError(op, "stream", `params ask to stream ("stream": true): `+what, nil)
		}
	case streamForced:
		pr.Stream = true
		switch s {
		case "true":
		case "":
			pr.Body = withStreamTrue(body)
		default:
			return nil, paramsError(op, "stream", `params set "stream" to `+s+`: a stream always sends true`, nil)
		}
	}
	return pr, nil
}

// withStreamTrue returns the JSON object body with "stream": true added
// first. body has no "stream" key.
func withStreamTrue(body []byte) []byte {
	rest := bytes.TrimLeft(body[1:], " \t\r\n")
	out := make([]byte, 0, len(body)+15)
	out = append(out, `{"stream":true`...)
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}

// transcriptionRequest encodes params with the SDK's own multipart encoder
// and reads the form back into a provider.Form, so that every field the
// SDK knows (and every extra field) is sent as the SDK would send it.
func transcriptionRequest(params openai.AudioTranscriptionNewParams) (*provider.Request, error) {
	const op = "transcription"
	if params.File == nil {
		return nil, paramsError(op, "file", "params.File is nil", nil)
	}
	if !hasFileName(params.File) {
		return nil, paramsError(op, "file", `params.File has no file name: pass an *os.File or openai.File(r, "speech.mp3", "audio/mpeg")`, nil)
	}
	body, contentType, err := params.MarshalMultipart()
	if err != nil {
		return nil, paramsError(op, "", "params do not encode", err)
	}
	_, mp, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, paramsError(op, "", "params do not encode", err)
	}
	form := new(provider.Form)
	var model string
	mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, paramsError(op, "", "params do not encode", err)
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, paramsError(op, p.FormName(), "params do not encode", err)
		}
		switch name := p.FormName(); name {
		case "file":
			form.File, form.FileName, form.FileContentType = v, p.FileName(), p.Header.Get("Content-Type")
		case "model":
			model = string(v)
		case "stream":
			if string(v) == "true" {
				return nil, paramsError(op, "stream", `params ask to stream ("stream": true): use Stream`, nil)
			}
			fallthrough
		default:
			form.Fields = append(form.Fields, provider.FormField{Name: name, Value: string(v)})
		}
	}
	switch {
	case model == "":
		return nil, paramsError(op, "model", "params.Model is empty", nil)
	case len(form.File) == 0:
		return nil, paramsError(op, "file", "params.File is empty", nil)
	}
	return &provider.Request{Endpoint: provider.EndpointTranscriptions, Model: model, Form: form}, nil
}

// hasFileName reports whether the SDK's multipart encoder finds a file
// name on r (it sends "anonymous_file" otherwise).
func hasFileName(r io.Reader) bool {
	switch f := r.(type) {
	case interface{ Filename() string }:
		return f.Filename() != ""
	case interface{ Name() string }:
		return f.Name() != ""
	}
	return false
}
