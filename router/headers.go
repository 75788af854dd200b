package router

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/switchyard-go/switchyard/provider"
)

// The headers the router adds to a result's header, in canonical form.
const (
	HeaderModelGroup         = "X-Switchyard-Model-Group"
	HeaderDeployment         = "X-Switchyard-Deployment"
	HeaderAttemptedRetries   = "X-Switchyard-Attempted-Retries"
	HeaderAttemptedFallbacks = "X-Switchyard-Attempted-Fallbacks"
)

// annotate returns a copy of up with the router's headers added. The
// upstream's map is never modified: it may be shared. The copy takes two
// allocations: the map and one backing array for all values.
func annotate(up http.Header, group, dep string, retries, fallbacks int) http.Header {
	n := 0
	for _, v := range up {
		n += len(v)
	}
	h := make(http.Header, len(up)+4)
	vals := make([]string, n+4)
	for k, v := range up {
		m := copy(vals, v)
		h[k] = vals[:m:m]
		vals = vals[m:]
	}
	vals[0], vals[1], vals[2], vals[3] = group, dep, strconv.Itoa(retries), strconv.Itoa(fallbacks)
	h[HeaderModelGroup] = vals[0:1:1]
	h[HeaderDeployment] = vals[1:2:2]
	h[HeaderAttemptedRetries] = vals[2:3:3]
	h[HeaderAttemptedFallbacks] = vals[3:4:4]
	return h
}

// contentFiltered reports whether resp is a chat (or legacy) completion
// whose answer was cut by the content filter, when g has content-policy
// fallbacks to send it to.
func (c *call) contentFiltered(g *group, resp *provider.Response) bool {
	if c.o.noFallbacks || len(c.r.set.cpFallbacks[g.name]) == 0 {
		return false
	}
	if e := c.req.Endpoint; e != provider.EndpointChat && e != provider.EndpointCompletions {
		return false
	}
	return finishedByContentFilter(resp.Body)
}

// finishedByContentFilter reports whether any choice of a completion body
// has finish_reason "content_filter".
func finishedByContentFilter(body []byte) bool {
	if !bytes.Contains(body, []byte("content_filter")) {
		return false
	}
	var v struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	for _, ch := range v.Choices {
		if ch.FinishReason == "content_filter" {
			return true
		}
	}
	return false
}
