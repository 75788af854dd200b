package router

import (
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/tokens"
)

// promptTokens counts the prompt of req for pre-call checks, with the
// tokenizer of model (a deployment's provider model). A body the counter
// cannot read (a transcription's form, malformed JSON) is estimated at four
// bytes per token, so that a check never fails on it; the upstream will
// answer such a request with its own error.
func promptTokens(req *provider.Request, model string) int {
	if len(req.Body) == 0 {
		return 0
	}
	n, err := tokens.CountChatBody(model, req.Body)
	if err != nil {
		return len(req.Body) / 4
	}
	return n
}
