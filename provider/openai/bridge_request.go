package openai

// The bridge's request conversion: a chat completions request body becomes
// a POST /v1/responses body (see bridge.go). The messages have their own
// file, bridge_messages.go.

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/switchyard-go/switchyard/provider"
)

// bridgeEmptyParameters is the parameter schema of a function that takes no
// arguments. Chat lets "parameters" be omitted; the Responses API requires
// the field.
var bridgeEmptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// chatToResponsesRequest converts a chat completions request body into a
// POST /v1/responses body for upstreamModel.
//
// Mapping: "messages" become "input" items (leading system and developer
// messages are joined into "instructions"; later ones stay input items in
// place); "tools", "tool_choice", "reasoning_effort", "max_tokens" /
// "max_completion_tokens", "response_format" and "verbosity" take their
// Responses shapes; "stream_options" keeps only include_obfuscation, and
// "n" is dropped when it is 1 (n > 1 has no Responses equivalent and is an
// error). Every other
// top-level field, known or not, is passed through unchanged, so fields the
// Responses API has and chat does not ("store", "previous_response_id",
// "include", "truncation", ...) work, and fields it rejects are rejected by
// the upstream rather than silently dropped.
//
// Two defaults differ between the APIs and are set to keep the chat
// meaning: a function tool without "strict" is sent with "strict": false
// (Responses defaults to strict), and a request without "store" (nor
// "previous_response_id") is sent with "store": false (Responses stores
// by default, chat does not).
//
// A malformed body yields a *provider.Error of ClassBadRequest whose Param
// names the offending field.
func chatToResponsesRequest(chatBody []byte, upstreamModel string) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(chatBody, &top); err != nil {
		return nil, bridgeBadRequest("", err, "request body is not a JSON object")
	}
	if top == nil {
		return nil, bridgeBadRequest("", nil, "request body is not a JSON object")
	}
	out := make(map[string]json.RawMessage, len(top)+2)
	for k, v := range top {
		out[k] = v
	}
	delete(out, "model")

	// messages -> instructions + input
	rawMsgs, ok := top["messages"]
	if !ok || bridgeIsNull(rawMsgs) {
		return nil, bridgeBadRequest("messages", nil, "messages is required")
	}
	if _, ok := top["input"]; ok {
		return nil, bridgeBadRequest("input", nil, "a chat request cannot carry both messages and input")
	}
	delete(out, "messages")
	var callerInstructions string
	if raw, ok := top["instructions"]; ok && !bridgeIsNull(raw) {
		if err := json.Unmarshal(raw, &callerInstructions); err != nil {
			return nil, bridgeBadRequest("instructions", err, "instructions must be a string")
		}
	}
	instructions, input, err := bridgeConvertMessages(rawMsgs, callerInstructions)
	if err != nil {
		return nil, err
	}
	if instructions != "" {
		if out["instructions"], err = bridgeMarshal(instructions); err != nil {
			return nil, bridgeBadRequest("instructions", err, "instructions")
		}
	}
	if out["input"], err = bridgeMarshal(input); err != nil {
		return nil, bridgeBadRequest("messages", err, "messages cannot be encoded")
	}

	// tools, tool_choice
	if raw, ok := top["tools"]; ok && !bridgeIsNull(raw) {
		tools, err := bridgeConvertTools(raw)
		if err != nil {
			return nil, err
		}
		out["tools"] = tools
	}
	if raw, ok := top["tool_choice"]; ok && !bridgeIsNull(raw) {
		tc, err := bridgeConvertToolChoice(raw)
		if err != nil {
			return nil, err
		}
		out["tool_choice"] = tc
	}

	// reasoning_effort (+ reasoning)
	if err := bridgeConvertReasoning(top, out); err != nil {
		return nil, err
	}

	// max_tokens / max_completion_tokens -> max_output_tokens
	delete(out, "max_tokens")
	delete(out, "max_completion_tokens")
	if _, ok := top["max_output_tokens"]; !ok {
		for _, k := range [...]string{"max_completion_tokens", "max_tokens"} {
			raw, ok := top[k]
			if !ok || bridgeIsNull(raw) {
				continue
			}
			if c := raw[0]; c != '-' && (c < '0' || c > '9') {
				return nil, bridgeBadRequest(k, nil, k+" must be a number")
			}
			out["max_output_tokens"] = raw
			break
		}
	}

	// response_format, verbosity -> text{format, verbosity}
	if err := bridgeConvertText(top, out); err != nil {
		return nil, err
	}

	// stream_options: include_usage is implied (a Responses stream always
	// ends with the usage); include_obfuscation exists on both sides.
	delete(out, "stream_options")
	if raw, ok := top["stream_options"]; ok && !bridgeIsNull(raw) {
		var so map[string]json.RawMessage
		if err := json.Unmarshal(raw, &so); err != nil || so == nil {
			return nil, bridgeBadRequest("stream_options", err, "stream_options must be an object")
		}
		if v, ok := so["include_obfuscation"]; ok {
			out["stream_options"] = bridgeWriteObject(map[string]json.RawMessage{"include_obfuscation": v})
		}
	}
	// Chat completions are not stored unless asked; Responses are stored by
	// default. Keep the chat meaning unless the caller chose, or chains
	// responses with previous_response_id.
	if _, ok := top["store"]; !ok {
		if _, ok := top["previous_response_id"]; !ok {
			out["store"] = json.RawMessage("false")
		}
	}
	if raw, ok := top["n"]; ok {
		if !bridgeIsNull(raw) && string(bytes.TrimSpace(raw)) != "1" {
			return nil, bridgeBadRequest("n", nil, "n other than 1 is not supported by the Responses API")
		}
		delete(out, "n")
	}

	model, err := bridgeMarshal(upstreamModel)
	if err != nil {
		return nil, bridgeBadRequest("model", err, "model")
	}
	out["model"] = model
	return bridgeWriteObject(out, "model", "instructions", "input"), nil
}

// bridgeConvertTools flattens chat function tools ({type, function:{name,
// description, parameters, strict}}) into Responses function tools ({type,
// name, description, parameters, strict}). Other keys of the tool and of
// its function object are carried along; tools of other types are passed
// through unchanged.
func bridgeConvertTools(raw json.RawMessage) (json.RawMessage, error) {
	var tools []json.RawMessage
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, bridgeBadRequest("tools", err, "tools must be an array")
	}
	out := make([]json.RawMessage, len(tools))
	for i, rt := range tools {
		path := "tools[" + strconv.Itoa(i) + "]"
		var t map[string]json.RawMessage
		if err := json.Unmarshal(rt, &t); err != nil || t == nil {
			return nil, bridgeBadRequest(path, err, path+" must be a tool object")
		}
		fn, isFn := t["function"]
		if string(t["type"]) != `"function"` || !isFn {
			out[i] = rt
			continue
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(fn, &f); err != nil || f == nil {
			return nil, bridgeBadRequest(path+".function", err, path+".function must be an object")
		}
		var name string
		if err := json.Unmarshal(f["name"], &name); err != nil || name == "" {
			return nil, bridgeBadRequest(path+".function.name", err, path+".function.name is required")
		}
		flat := make(map[string]json.RawMessage, len(t)+len(f))
		for k, v := range t {
			if k != "function" {
				flat[k] = v
			}
		}
		for k, v := range f {
			flat[k] = v
		}
		flat["type"] = json.RawMessage(`"function"`)
		if p, ok := flat["parameters"]; !ok || bridgeIsNull(p) {
			flat["parameters"] = bridgeEmptyParameters
		}
		if s, ok := flat["strict"]; !ok || bridgeIsNull(s) {
			flat["strict"] = json.RawMessage("false")
		}
		out[i] = bridgeWriteObject(flat, "type", "name", "description", "parameters", "strict")
	}
	return bridgeMarshal(out)
}

// bridgeConvertToolChoice maps chat's tool_choice to the Responses shape:
// strings as they are, {type: function, function:{name}} -> {type:
// function, name}, and {type: allowed_tools, allowed_tools:{mode, tools}}
// -> {type: allowed_tools, mode, tools} with flattened function names.
// Other objects pass through unchanged.
func bridgeConvertToolChoice(raw json.RawMessage) (json.RawMessage, error) {
	if raw[0] == '"' {
		return raw, nil
	}
	var tc struct {
		Type     string `json:"type"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
		AllowedTools *struct {
			Mode  string            `json:"mode"`
			Tools []json.RawMessage `json:"tools"`
		} `json:"allowed_tools"`
	}
	if err := json.Unmarshal(raw, &tc); err != nil {
		return nil, bridgeBadRequest("tool_choice", err, "tool_choice must be a string or an object")
	}
	switch {
	case tc.Type == "function" && tc.Function != nil:
		if tc.Function.Name == "" {
			return nil, bridgeBadRequest("tool_choice.function.name", nil, "tool_choice.function.name is required")
		}
		return bridgeMarshal(struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}{"function", tc.Function.Name})
	case tc.Type == "allowed_tools" && tc.AllowedTools != nil:
		tools, err := bridgeConvertTools(bridgeMustMarshal(tc.AllowedTools.Tools))
		if err != nil {
			return nil, bridgeBadRequest("tool_choice.allowed_tools.tools", err, "tool_choice.allowed_tools.tools")
		}
		// Choices name tools; they carry no parameters or strictness.
		var flat []map[string]json.RawMessage
		if err := json.Unmarshal(tools, &flat); err != nil {
			return nil, bridgeBadRequest("tool_choice.allowed_tools.tools", err, "tool_choice.allowed_tools.tools")
		}
		for i, t := range flat {
			if string(t["type"]) == `"function"` {
				flat[i] = map[string]json.RawMessage{"type": t["type"], "name": t["name"]}
			}
		}
		return bridgeMarshal(struct {
			Type  string                       `json:"type"`
			Mode  string                       `json:"mode,omitempty"`
			Tools []map[string]json.RawMessage `json:"tools"`
		}{"allowed_tools", tc.AllowedTools.Mode, flat})
	}
	return raw, nil
}

// bridgeConvertReasoning sets out["reasoning"] from reasoning_effort (an
// effort string, or an object {effort, summary}) and an optional
// caller-supplied reasoning (an effort string, or an object such as
// {effort, summary}). The reasoning object's own fields win over
// reasoning_effort's.
func bridgeConvertReasoning(top, out map[string]json.RawMessage) error {
	delete(out, "reasoning_effort")
	var effort string
	// reasoning_effort may also be an object, {"effort": "high",
	// "summary": "auto"} (LiteLLM's second form): its fields are
	// Responses' reasoning fields, below a caller's own reasoning object.
	var effortObj map[string]json.RawMessage
	if raw, ok := top["reasoning_effort"]; ok && !bridgeIsNull(raw) {
		if raw[0] == '{' {
			if err := json.Unmarshal(raw, &effortObj); err != nil {
				return bridgeBadRequest("reasoning_effort", err, "reasoning_effort is not a valid object")
			}
			for k, v := range effortObj {
				if k != "effort" && k != "summary" {
					return bridgeBadRequest("reasoning_effort", nil, "reasoning_effort object has an unknown field "+strconv.Quote(k)+" (it takes effort and summary)")
				}
				if v[0] != '"' && !bridgeIsNull(v) {
					return bridgeBadRequest("reasoning_effort", nil, "reasoning_effort."+k+" must be a string")
				}
			}
		} else if err := json.Unmarshal(raw, &effort); err != nil {
			return bridgeBadRequest("reasoning_effort", err, "reasoning_effort must be a string or an object such as {\"effort\": \"high\", \"summary\": \"auto\"}")
		}
	}
	obj := map[string]json.RawMessage{}
	if raw, ok := top["reasoning"]; ok && !bridgeIsNull(raw) {
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return bridgeBadRequest("reasoning", err, "reasoning is not a valid string")
			}
			obj["effort"] = raw
		} else if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return bridgeBadRequest("reasoning", err, "reasoning must be an effort string or an object")
		}
	}
	if effort != "" {
		if _, ok := obj["effort"]; !ok {
			obj["effort"] = top["reasoning_effort"]
		}
	}
	for k, v := range effortObj {
		if bridgeIsNull(v) {
			continue
		}
		if _, ok := obj[k]; !ok {
			obj[k] = v
		}
	}
	if len(obj) == 0 {
		return nil
	}
	out["reasoning"] = bridgeWriteObject(obj, "effort", "summary")
	return nil
}

// bridgeConvertText sets out["text"] from response_format and verbosity,
// merged into a caller-supplied text object whose own fields win.
func bridgeConvertText(top, out map[string]json.RawMessage) error {
	delete(out, "response_format")
	delete(out, "verbosity")
	text := map[string]json.RawMessage{}
	if raw, ok := top["text"]; ok && !bridgeIsNull(raw) {
		if err := json.Unmarshal(raw, &text); err != nil || text == nil {
			return bridgeBadRequest("text", err, "text must be an object")
		}
	}
	if raw, ok := top["verbosity"]; ok && !bridgeIsNull(raw) {
		if _, ok := text["verbosity"]; !ok {
			text["verbosity"] = raw
		}
	}
	if raw, ok := top["response_format"]; ok && !bridgeIsNull(raw) {
		var rf map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rf); err != nil || rf == nil {
			return bridgeBadRequest("response_format", err, "response_format must be an object")
		}
		var typ string
		if err := json.Unmarshal(rf["type"], &typ); err != nil || typ == "" {
			return bridgeBadRequest("response_format.type", err, "response_format.type is required")
		}
		format := rf
		if typ == "json_schema" {
			var js map[string]json.RawMessage
			if err := json.Unmarshal(rf["json_schema"], &js); err != nil || js == nil {
				return bridgeBadRequest("response_format.json_schema", err, "response_format.json_schema must be an object")
			}
			format = js
			format["type"] = rf["type"]
		}
		if _, ok := text["format"]; !ok {
			text["format"] = bridgeWriteObject(format, "type", "name", "description", "schema", "strict")
		}
	}
	if len(text) == 0 {
		return nil
	}
	out["text"] = bridgeWriteObject(text, "format", "verbosity")
	return nil
}

// bridgeBadRequest builds the error for a chat body the bridge cannot
// convert. param names the offending field.
func bridgeBadRequest(param string, cause error, msg string) error {
	return &provider.Error{
		Class:   provider.ClassBadRequest,
		Param:   param,
		Message: "openai: responses bridge: " + msg,
		Err:     cause,
	}
}

// bridgeWriteObject writes a JSON object with the keys named in first (when
// present) first, in that order, then the rest sorted, so the output is
// deterministic.
func bridgeWriteObject(m map[string]json.RawMessage, first ...string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(first, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	size := 2
	for k, v := range m {
		size += len(k) + len(v) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	n := 0
	write := func(k string) {
		v, ok := m[k]
		if !ok {
			return
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, bridgeMustMarshal(k)...)
		b = append(b, ':')
		b = append(b, v...)
	}
	for _, k := range first {
		write(k)
	}
	for _, k := range keys {
		write(k)
	}
	return append(b, '}')
}
