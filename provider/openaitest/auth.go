package openaitest

import (
	"net/http"
)

// authenticate checks the key and the organisation and project headers,
// answering 401 when they do not pass.
func (c *call) authenticate() bool {
	if c.key == "" {
		if c.azure {
			c.failAzure(http.StatusUnauthorized, "401", "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.")
		} else {
			c.fail(http.StatusUnauthorized, apiError{Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", Type: "invalid_request_error"})
		}
		return false
	}
	if !c.ks.accepted {
		c.invalidKey()
		return false
	}
	if org := c.r.Header.Get("Openai-Organization"); org != "" && c.ks.cfg.Organization != "" && org != c.ks.cfg.Organization {
		c.fail(http.StatusUnauthorized, apiError{Message: "OpenAI-Organization header should match organization for API key", Type: "invalid_request_error", Code: "mismatched_organization"})
		return false
	}
	if proj := c.r.Header.Get("Openai-Project"); proj != "" && c.ks.cfg.Project != "" && proj != c.ks.cfg.Project {
		c.fail(http.StatusUnauthorized, apiError{Message: "OpenAI-Project header should match project for API key", Type: "invalid_request_error", Code: "mismatched_project"})
		return false
	}
	return true
}

func (c *call) invalidKey() {
	if c.azure {
		c.failAzure(http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
		return
	}
	c.fail(http.StatusUnauthorized, apiError{Message: "Incorrect API key provided: " + redact(c.key) + ". You can find your API key at https://platform.openai.com/account/api-keys.", Type: "invalid_request_error", Code: "invalid_api_key"})
}

// redact shows a key the way OpenAI's 401 message does.
func redact(key string) string {
	if len(key) <= 8 {
		return "***"
	}
	return key[:3] + "***" + key[len(key)-4:]
}

func (c *call) notFound() {
	if c.deployment != "" {
		c.failAzure(http.StatusNotFound, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
		return
	}
	c.fail(http.StatusNotFound, apiError{Message: "The model `" + c.model + "` does not exist or you do not have access to it.", Type: "invalid_request_error", Code: "model_not_found"})
}
