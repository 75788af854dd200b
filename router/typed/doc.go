// Package typed makes calls through a [router.Router] with the official
// OpenAI Go SDK's request and response types
// (github.com/openai/openai-go/v3): [Chat], [ChatStream], [Completions],
// [Embeddings], [Responses] and [Transcription] take the SDK's params,
// route them as [router.Router.Do] and [router.Router.Stream] do, and
// return the SDK's answer with the [*router.Result] of the call.
//
// It is its own package because importing it is what brings in the SDK: a
// program that imports only router (with raw JSON bodies through Do and
// Stream, or behind router/handler) does not compile or link the SDK, and
// its binary is about 20 MB smaller.
//
//	resp, res, err := typed.Chat(ctx, r, openai.ChatCompletionNewParams{
//		Model:    "gpt-4o-mini",
//		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
//	})
//	// resp.Choices[0].Message.Content is the answer; res.Deployment served it.
//
// The functions take the router as an argument (they cannot be methods of
// a type from another package) and keep its call options
// ([router.WithTags], [router.WithTimeout], ...). Params that cannot make a
// request are refused before any deployment is tried, with an error
// wrapping a *router.RequestError that names the field (a bad request for
// errors.Is(err, provider.ErrBadRequest)), as the router's own checks do.
package typed
