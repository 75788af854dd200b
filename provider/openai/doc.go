// Package openai is the [provider.Client] for OpenAI, Azure OpenAI and any
// OpenAI-compatible server (vLLM, LM Studio, Together, Groq, a LiteLLM
// proxy, ...): it sends one router attempt to one deployment and gives back
// the upstream's answer, headers and usage, or a classified
// *provider.Error.
//
// # Deployments
//
// [New] takes a [Config] whose Model is written as in LiteLLM
// (litellm_params.model); see [Config.Model] for the rules: "gpt-4o" and
// "openai/gpt-4o" go to api.openai.com (or OPENAI_BASE_URL),
// "azure/<deployment>" to an Azure OpenAI resource, "hosted_vllm/<model>"
// and any other "<prefix>/<model>" to the server at BaseURL, with the
// prefix removed. Fine-tuned model ids ("ft:gpt-4o-...:org::id") are sent
// as they are.
//
// Two model forms convert chat requests: "text-completion-openai/<model>"
// sends them to the legacy /completions endpoint, and
// "openai/responses/<model>" (or "responses/<model>") to the Responses API,
// with the answer (reasoning included, as reasoning_content) converted back
// to a chat completion or chat chunks.
//
// # Bodies pass through
//
// Request bodies are not decoded: the top-level "model" is replaced in
// place by the deployment's model (and, for Stream, "stream" set to true),
// and every other byte reaches the upstream as the caller wrote it, so
// fields this package does not know work. Answers come back raw, with every
// field the upstream sent (reasoning_content, system_fingerprint,
// provider-specific fields); only the usage object is decoded.
//
// With provider.Request.PassThrough, a 2xx answer larger than its first
// 32 KiB (and not converted by a bridge) is not even held: Do returns it
// as Response.Reader, which gives the body as it arrives, reads the usage
// from it as it passes and stops with an error at the size limit
// (Request.MaxResponseBytes, else Config.MaxResponseBytes) or when the
// upstream cuts it. Smaller answers are read and checked whole as without
// it.
//
// # Errors
//
// Every failure is a *provider.Error. An upstream's error is classified by
// its status, then its code, type and message, by one classifier whichever
// way it arrives (an HTTP error, an error frame in a stream, a failed
// Responses response, bridged or not): 429 is ClassRateLimited unless the
// code is insufficient_quota, context_length_exceeded is
// ClassContextWindow, and so on. Transport failures are classified by
// cause (canceled, timeout, connection), and a 2xx answer that is not JSON,
// or a stream that ends without its end marker ("[DONE]", or
// response.completed for the Responses API), is a ClassConnection error,
// never a silent truncation. The router reads the class and the
// upstream's retry hints (RetryAfter, x-should-retry) to decide what to do
// next (provider.Error.RetryScope).
//
// # Configuration
//
// A [Config] is all there is: every field but Model has a documented zero
// default, including the User-Agent, the size limit of an answer and the
// clock (Config.Now) used to read retry-after dates, which a router sets
// to its own so that one clock drives every deployment.
//
// # Performance
//
// Clients without their own Config.HTTPClient share one http.Client whose
// transport keeps up to 1,024 idle connections per host, so a busy router
// reuses connections instead of opening new TLS sessions. URLs and headers
// are computed once in New.
package openai
