package litellmconfig

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard-go/switchyard/deployment"
	"go.yaml.in/yaml/v3"
)

// modelList reads model_list into deployments.
func (p *parser) modelList(n *yaml.Node) error {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return p.errAt(n, "model_list", "expected a list of deployments, got %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return p.errAt(n, "model_list", "no deployments: model_list is empty")
	}
	p.at("Deployments", "model_list", n)
	ids := map[string]int{} // deployment id -> index
	for i, item := range n.Content {
		d, err := p.deployment(item, i)
		if err != nil {
			return err
		}
		id := d.ID
		if id == "" {
			id = deployment.DefaultID(d)
		}
		if j, dup := ids[id]; dup {
			path := fmt.Sprintf("model_list[%d].model_info.id", i)
			at := item
			if s, ok := p.cfg.src[fmt.Sprintf("Deployments[%d].ID", i)]; ok {
				at = &yaml.Node{Line: s.line}
			}
			return p.errAt(at, path, "duplicate id %q (also model_list[%d], line %d); set model_info.id to tell them apart",
				id, j, p.cfg.DeploymentLines[j])
		}
		ids[id] = i
		p.cfg.Router.Deployments = append(p.cfg.Router.Deployments, d)
		p.cfg.DeploymentLines = append(p.cfg.DeploymentLines, item.Line)
	}
	return nil
}

// deployment reads model_list entry i. It records where each field of the
// deployment.Config came from (see entryFields).
func (p *parser) deployment(n *yaml.Node, i int) (deployment.Config, error) {
	var (
		d              deployment.Config
		params, info   *yaml.Node
		hasName        bool
		orderFromParam bool
	)
	path, field := fmt.Sprintf("model_list[%d]", i), fmt.Sprintf("Deployments[%d]", i)
	if resolve(n).Kind != yaml.MappingNode {
		return d, p.errAt(n, path, "expected a mapping with model_name and litellm_params, got %s", kindName(n))
	}
	p.at(field, path, n)
	// set records that the entry's setting (such as "litellm_params.rpm")
	// gave its field.
	set := func(setting string, v *yaml.Node) {
		if f, ok := entryField(setting); ok {
			p.at(field+"."+f, join(path, setting), v)
		}
	}
	err := p.each(n, path, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "model_name":
			d.ModelName, err = p.str(v, join(path, key))
			hasName = true
			set(key, v)
		case "litellm_params":
			params = v
		case "model_info":
			info = v
		default:
			p.warn(k, "model_list[]."+key, "not supported, ignored")
		}
		return err
	})
	if err != nil {
		return d, err
	}
	if !hasName || d.ModelName == "" {
		return d, p.errAt(n, join(path, "model_name"), "missing: every deployment needs the model group name clients ask for")
	}
	if params == nil || isNull(params) {
		return d, p.errAt(n, join(path, "litellm_params"), "missing: every deployment needs litellm_params with a model")
	}
	pp := join(path, "litellm_params")
	err = p.each(params, pp, func(key string, k, v *yaml.Node) error {
		kp := join(pp, key)
		var err error
		switch key {
		case "model":
			d.Model, err = p.str(v, kp)
		case "api_key":
			d.APIKey, err = p.str(v, kp)
		case "api_base", "base_url":
			d.BaseURL, err = p.str(v, kp)
		case "api_version":
			d.APIVersion, err = p.str(v, kp)
		case "organization":
			d.Organization, err = p.str(v, kp)
		case "rpm":
			d.RPM, err = p.integer(v, kp)
		case "tpm":
			d.TPM, err = p.integer(v, kp)
		case "weight":
			d.Weight, err = p.number(v, kp)
		case "order":
			d.Order, err = p.integer(v, kp)
			orderFromParam = true
		case "max_parallel_requests":
			d.MaxParallelRequests, err = p.integer(v, kp)
		case "tags":
			d.Tags, err = p.strList(v, kp)
		case "timeout":
			d.Timeout, err = p.seconds(v, kp)
		case "stream_timeout":
			d.StreamTimeout, err = p.seconds(v, kp)
		case "cooldown_time":
			d.CooldownTime, err = p.seconds(v, kp)
		case "input_cost_per_token":
			d.Info.InputCostPerToken, err = p.number(v, kp)
		case "output_cost_per_token":
			d.Info.OutputCostPerToken, err = p.number(v, kp)
		case "extra_headers", "headers":
			d.ExtraHeaders, err = p.headers(v, kp)
		default:
			p.warn(k, "model_list[].litellm_params."+key, unsupportedParam(key))
		}
		set("litellm_params."+key, v)
		return err
	})
	if err != nil {
		return d, err
	}
	if d.Model == "" {
		return d, p.errAt(params, join(pp, "model"), "missing: the provider model, such as openai/gpt-4o or azure/<deployment>")
	}
	if prefix, _, ok := strings.Cut(d.Model, "/"); ok && !supportedPrefix(prefix) && d.BaseURL == "" {
		p.warn(params, "model_list[].litellm_params.model: "+prefix+"/", "provider "+prefix+" is not supported natively; it is sent to an OpenAI-compatible api_base, and none is set")
	}
	if info == nil {
		return d, nil
	}
	ip := join(path, "model_info")
	err = p.each(info, ip, func(key string, k, v *yaml.Node) error {
		kp := join(ip, key)
		var err error
		used := true // whether the value is the field's (LiteLLM's precedence)
		switch key {
		case "id":
			d.ID, err = p.str(v, kp)
		case "max_input_tokens":
			d.Info.MaxInputTokens, err = p.integer(v, kp)
		case "max_output_tokens":
			d.Info.MaxOutputTokens, err = p.integer(v, kp)
		case "max_tokens":
			// LiteLLM's older name for the output limit.
			if used = d.Info.MaxOutputTokens == 0; used {
				d.Info.MaxOutputTokens, err = p.integer(v, kp)
			}
		case "input_cost_per_token":
			if used = d.Info.InputCostPerToken == 0; used {
				d.Info.InputCostPerToken, err = p.number(v, kp)
			}
		case "output_cost_per_token":
			if used = d.Info.OutputCostPerToken == 0; used {
				d.Info.OutputCostPerToken, err = p.number(v, kp)
			}
		case "order":
			if used = !orderFromParam; used {
				d.Order, err = p.integer(v, kp)
			}
		default:
			p.warn(k, "model_list[].model_info."+key, "not used, ignored")
		}
		if used {
			set("model_info."+key, v)
		}
		return err
	})
	return d, err
}

// supportedPrefix reports whether provider/openai serves a model prefix
// without an api_base of its own.
func supportedPrefix(prefix string) bool {
	switch prefix {
	case "openai", "azure", "text-completion-openai", "responses":
		return true
	}
	return false
}

// unsupportedParam says what happens to a litellm_params key that is not
// read.
func unsupportedParam(key string) string {
	switch key {
	case "temperature", "max_tokens", "max_completion_tokens", "top_p", "seed", "stop", "frequency_penalty",
		"presence_penalty", "response_format", "user", "n", "stream", "reasoning_effort":
		return "default request parameters are not applied; requests are forwarded as sent"
	}
	return "not supported, ignored"
}

// headers reads a mapping of header names to values.
func (p *parser) headers(n *yaml.Node, path string) (http.Header, error) {
	h := http.Header{}
	err := p.each(n, path, func(key string, _, v *yaml.Node) error {
		s, err := p.str(v, join(path, key))
		h.Set(key, s)
		return err
	})
	return h, err
}
