package router

import "github.com/switchyard-go/switchyard/provider"

// promptTokens estimates the prompt's token count for pre-call checks.
func promptTokens(req *provider.Request) int {
	// About four bytes of JSON per token: a rough, cheap estimate.
	return len(req.Body) / 4
}
