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

// annotate adds the router's headers to up and returns it (a new map when
// up is nil). The router owns the header a Client returns (see
// provider.Client), so no copy is made: copying OpenAI's dozen headers cost
// more than the rest of the router's work per call. One allocation holds the
// four values.
func annotate(up http.Header, group, dep string, retries, fallbacks int) http.Header {
	if up == nil {
		up = make(http.Header, 4)
	}
	vals := make([]string, 4)
	vals[0], vals[1], vals[2], vals[3] = group, dep, strconv.Itoa(retries), strconv.Itoa(fallbacks)
	up[HeaderModelGroup] = vals[0:1:1]
	up[HeaderDeployment] = vals[1:2:2]
	up[HeaderAttemptedRetries] = vals[2:3:3]
	up[HeaderAttemptedFallbacks] = vals[3:4:4]
	return up
}

// contentFiltered reports whether resp is a chat (or legacy) completion
// whose answer was cut by the content filter, when g has content-policy
// fallbacks to send it to.
func (c *call) contentFiltered(g *group, resp *provider.Response) bool {
	if c.opts.noFallbacks || len(c.r.set.cpFallbacks[g.name]) == 0 {
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
