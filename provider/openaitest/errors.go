package openaitest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is the inside of OpenAI's error body
// {"error": {"message", "type", "param", "code"}}; empty strings are sent
// as null.
type apiError struct {
	Message string     `json:"message"`
	Type    nullString `json:"type"`
	Param   nullString `json:"param"`
	Code    nullString `json:"code"`
}

// nullString marshals the empty string as null.
type nullString string

func (s nullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// fail answers with OpenAI's error body.
func (c *call) fail(status int, e apiError) {
	c.code = string(e.Code)
	if c.code == "" && status >= 500 {
		c.code = string(e.Type)
	}
	b, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{e})
	c.writeBody(status, "application/json", b)
}

// failAzure answers with Azure OpenAI's error body {"error": {"code",
// "message"}}.
func (c *call) failAzure(status int, code, message string) {
	c.code = code
	b, _ := json.Marshal(struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message}})
	c.writeBody(status, "application/json", b)
}

const (
	serverErrorMessage = "The server had an error while processing your request. Sorry about that!"
	garbageBody        = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"
	azureFilterBody    = `{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}}}`
)

// injectBefore applies a fault that answers instead of the endpoint,
// reporting whether it did. Faults that shape the endpoint's own answer
// (truncation, content filter, stream faults) are left to the endpoint
// through c.fault and c.faultCfg.
func (c *call) injectBefore(f Fault) bool {
	c.faultCfg = f
	switch f.Kind {
	case FaultServerError:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if status < 100 || status > 599 {
			status = http.StatusInternalServerError
		}
		c.fail(status, apiError{Message: serverErrorMessage, Type: "server_error"})
	case FaultHang:
		select {
		case <-c.r.Context().Done():
		case <-c.h.closing:
			abort()
		}
	case FaultInvalidKey:
		c.invalidKey()
	case FaultRateLimit:
		msg := "Rate limit reached for " + c.model + " on requests per min (RPM)."
		if f.RetryAfter > 0 {
			msg += " Please try again in " + formatReset(f.RetryAfter) + "."
		}
		c.rateLimited("requests", msg, f.RetryAfter)
	case FaultInsufficientQuota:
		c.fail(http.StatusTooManyRequests, apiError{Message: "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.", Type: "insufficient_quota", Code: "insufficient_quota"})
	case FaultContextLength:
		c.fail(http.StatusBadRequest, apiError{
			Message: "This model's maximum context length is " + strconv.Itoa(f.Window) + " tokens. However, your messages resulted in " +
				strconv.Itoa(c.promptTokens) + " tokens. Please reduce the length of the messages.",
			Type: "invalid_request_error", Param: "messages", Code: "context_length_exceeded"})
	case FaultContentPolicy:
		if c.azure {
			c.code = "content_filter"
			c.writeBody(http.StatusBadRequest, "application/json", []byte(azureFilterBody))
		} else {
			c.fail(http.StatusBadRequest, apiError{Message: "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.", Type: "invalid_request_error", Code: "content_policy_violation"})
		}
	case FaultNotFound:
		if c.model == "" && c.deployment == "" {
			c.model = c.modelID
		}
		c.notFound()
	case FaultGarbage:
		c.writeBody(http.StatusOK, "application/json", []byte(garbageBody))
	default:
		return false
	}
	return true
}

// writeOK writes a successful JSON answer, truncated under
// FaultTruncatedJSON.
func (c *call) writeOK(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, apiError{Message: "openaitest: marshal: " + err.Error(), Type: "server_error"})
		return
	}
	if c.fault == FaultTruncatedJSON {
		b = b[:len(b)/2]
	}
	if c.h.cfg.padding.Bytes <= 0 && c.fault != FaultBodyCut {
		c.writeBody(http.StatusOK, "application/json", b)
		return
	}
	c.writePadded(b)
}
