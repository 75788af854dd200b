// Package tokens counts prompt tokens offline with OpenAI's real
// tokenizers (o200k_base and cl100k_base, embedded in the binary through
// github.com/tiktoken-go/tokenizer), so that the router can check context
// windows and spend tokens-per-minute budgets before it sends a request.
//
// [Count] counts a text. [CountChatBody] estimates the prompt tokens of a
// whole request body (chat completions, Responses, embeddings or legacy
// completions) the way OpenAI's cookbook does: per-message overhead, text
// tokens, fixed estimates for images, audio and files, and tool definitions.
// The estimate is meant to be close and, where it cannot be exact, on the
// high side.
//
// Counting splits text with a hand-written equivalent of each encoding's
// split pattern and merges byte pairs over ranks read from the tokenizer
// module's vocabulary: the counts are tiktoken's, about twenty times faster
// than the module's own regexp-based Count and without allocating. (Where
// the module's generated regexp departs from the pattern, on whitespace
// runs holding two separate newlines and on DEL, this package follows the
// pattern, as tiktoken does.)
//
// The vocabularies are large (200,000 and 100,000 entries); each is loaded
// on first use, once, and shared. Everything in the package is safe for
// concurrent use.
package tokens
