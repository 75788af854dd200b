// Package openaitest provides a fake OpenAI upstream for tests, examples and
// benchmarks: a real HTTP server on loopback, in the spirit of
// net/http/httptest, that speaks the OpenAI (and Azure OpenAI) wire format
// closely enough to exercise a client, a router or a user's own code.
//
// A test starts a server and points its client at [Server.URL]:
//
//	srv := openaitest.NewServer(openaitest.WithKey("sk-a", openaitest.KeyConfig{RPM: 3}))
//	defer srv.Close()
//	// POST srv.URL + "/chat/completions" with "Authorization: Bearer sk-a"
//
// # Endpoints
//
// Every endpoint is served with and without the "/v1" prefix:
//
//	POST /v1/chat/completions      non-streaming and SSE streaming, tool calls
//	POST /v1/completions           legacy text completions, streaming too
//	POST /v1/embeddings            deterministic unit vectors, float or base64
//	POST /v1/responses             reasoning + message output, named SSE events
//	POST /v1/audio/transcriptions  multipart/form-data with "file" and "model"
//	GET  /v1/models, /v1/models/{id}
//
// The Azure OpenAI forms are served too: /openai/deployments/{deployment}/...
// and /openai/responses (both require a non-empty api-version query
// parameter) and /openai/v1/... . Azure paths authenticate with the api-key
// header only, answer with Azure's error bodies and send only the
// x-ratelimit-remaining-* headers, as Azure does.
//
// # Answers
//
// Answers are deterministic: the reply is "echo: " followed by the last user
// message's text unless [WithReply] sets one; the model echoes the requested
// model; ids and x-request-id count up from 1 per server. Usage counts
// prompt tokens with the token estimator (len(body)/4 by default, see
// [WithTokenEstimator]) and generated tokens as len(text)/4 rounded up
// (embeddings: len(input)/4 rounded up per input, or the token count of
// token inputs). Embeddings are [Vector] of each input. A max_tokens
// (max_completion_tokens, max_output_tokens) smaller than the reply cuts
// it, with finish_reason "length" (Responses: status "incomplete").
// A chat request with tools whose last user message contains "call tool"
// (or whose tool_choice is "required" or names a function, or any request
// with tools under [WithToolCalls]) is answered with tool calls: two
// parallel calls when parallel_tool_calls is not false and two or more
// function tools were given. A chat request whose last message is the
// assistant's (a continuation of a partial answer, as a router resuming a
// cut stream sends; "prefix": true and continue_final_message are
// accepted and not required) is answered with the rest of the reply that
// the partial begins, or the whole reply when it does not begin it, so
// that a resumed stream's whole answer is known to the test.
//
// # Limits, faults and counters
//
// Keys registered with [WithKey] get continuously refilled token buckets for
// requests and tokens, reported in the x-ratelimit-* headers of every
// response and enforced with OpenAI's 429 (see [KeyConfig]). [WithClock]
// injects the clock the buckets use, so tests step time instead of
// sleeping. [Handler.SetFault] injects failures (5xx, hangs, 401, quota,
// context window, content policy, cut, failed and stalled streams, cut or
// garbage bodies), server-wide or per key, at any time. [WithPadding] makes
// answers as large as a test needs (100 MB embeddings) without the fake
// holding them. [Handler.Stats] and [Handler.Requests] tell a
// test what traffic reached the upstream.
//
// A [Handler] and a [Server] are safe for concurrent use.
package openaitest
