package wire

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
)

// Classify maps a failed call to a Class from its HTTP status and the type,
// code and message of its error object. It is the one classifier of the
// OpenAI client: [ParseError] uses it for HTTP error answers and for error
// frames inside a stream, and the Responses bridge for the error of a
// failed response, so that one error reads the same whichever way it came.
//
// The status decides first, refined by the error's code, type and message:
//
//   - 429: ClassQuotaExhausted for insufficient_quota (or
//     billing_hard_limit_reached), else ClassRateLimited
//   - 401, 403: ClassAuth; 404: ClassNotFound; 408: ClassTimeout; 409:
//     ClassConflict
//   - other 4xx: ClassContextWindow for context_length_exceeded or a
//     message such as "maximum context length", "string too long" or "too
//     many tokens"; ClassContentPolicy for content_policy_violation,
//     content_filter or "content management policy"; ClassQuotaExhausted
//     for insufficient_quota or billing_hard_limit_reached; else
//     ClassBadRequest
//   - 5xx: ClassServer
//
// An error inside a successful answer (status 0 or 2xx: a stream's error
// event, a failed Responses response) has no status of its own. A numeric
// code from 400 to 599 counts as one; otherwise the code names the class
// (the type, when the code names none or only a bad request), a bad request is refined by its
// message as a 4xx is, and an error nothing names is ClassServer: the
// upstream accepted the call and then failed it.
func Classify(status int, typ, code, msg string) provider.Class {
	if status < 400 || status > 599 {
		if n, err := strconv.Atoi(code); err == nil && n >= 400 && n <= 599 {
			status = n // {"error": {"code": 429, ...}} inside a 200 stream
		}
	}
	// The class the code names; the type's when the code names none, or
	// only a bad request which the type makes more precise.
	named := codeClass(code)
	if t := codeClass(typ); named == provider.ClassUnknown || named == provider.ClassBadRequest && t != provider.ClassUnknown {
		named = t
	}
	switch status {
	case http.StatusTooManyRequests:
		if named == provider.ClassQuotaExhausted || code == "insufficient_quota" || typ == "insufficient_quota" {
			return provider.ClassQuotaExhausted
		}
		return provider.ClassRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return provider.ClassAuth
	case http.StatusNotFound:
		return provider.ClassNotFound
	case http.StatusRequestTimeout:
		return provider.ClassTimeout
	case http.StatusConflict:
		return provider.ClassConflict
	}
	switch {
	case status >= 400 && status < 500:
		switch named {
		case provider.ClassContextWindow, provider.ClassContentPolicy, provider.ClassQuotaExhausted:
			return named
		}
		if c := messageClass(msg); c != provider.ClassUnknown {
			return c
		}
		return provider.ClassBadRequest
	case status >= 500:
		return provider.ClassServer
	}
	switch named {
	case provider.ClassUnknown, provider.ClassBadRequest:
		if c := messageClass(msg); c != provider.ClassUnknown {
			return c
		}
		if named == provider.ClassUnknown {
			return provider.ClassServer
		}
	}
	return named
}

// codeClass is the class an error code (or type) names, ClassUnknown for
// one it does not know. The names are those of OpenAI's error bodies and of
// the Responses API's error object, and a few that OpenAI-compatible
// servers use.
func codeClass(name string) provider.Class {
	switch name {
	case "":
		return provider.ClassUnknown
	case "rate_limit_exceeded", "rate_limit_error", "tokens", "requests":
		return provider.ClassRateLimited
	case "insufficient_quota", "billing_hard_limit_reached":
		return provider.ClassQuotaExhausted
	case "context_length_exceeded", "string_above_max_length":
		return provider.ClassContextWindow
	case "content_policy_violation", "content_filter", "image_content_policy_violation":
		return provider.ClassContentPolicy
	case "invalid_api_key", "authentication_error", "permission_denied":
		return provider.ClassAuth
	case "model_not_found":
		return provider.ClassNotFound
	case "vector_store_timeout":
		return provider.ClassTimeout
	case "server_error":
		return provider.ClassServer
	case "invalid_request_error", "invalid_prompt",
		"invalid_image", "invalid_image_format", "invalid_base64_image", "invalid_image_url",
		"image_too_large", "image_too_small", "image_parse_error", "invalid_image_mode", "image_file_too_large",
		"unsupported_image_media_type", "empty_image_file", "failed_to_download_image", "image_file_not_found":
		return provider.ClassBadRequest
	}
	return provider.ClassUnknown
}

// messageClass recognises the context window and content policy errors
// by their message, for servers that send them without a code.
func messageClass(msg string) provider.Class {
	if msg == "" {
		return provider.ClassUnknown
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "maximum context length"),
		strings.Contains(m, "context_length_exceeded"),
		strings.Contains(m, "context length"),
		strings.Contains(m, "string too long"),
		strings.Contains(m, "too many tokens"),
		strings.Contains(m, "prompt is too long"):
		return provider.ClassContextWindow
	case strings.Contains(m, "content management policy"),
		strings.Contains(m, "content_policy_violation"),
		strings.Contains(m, "content_filter"):
		return provider.ClassContentPolicy
	}
	return provider.ClassUnknown
}
