package openai

// The chat-to-Responses bridge (LiteLLM's "openai/responses/<model>"): a
// caller speaks chat completions, the upstream is sent POST /v1/responses,
// and the answer (or the event stream) is turned back into chat-completion
// shape. Every unexported name in this file starts with "bridge" so that it
// cannot collide with the rest of the package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/internal/wire"
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

// bridgeChatMessage is one chat message as far as the bridge reads it.
type bridgeChatMessage struct {
	Role       string             `json:"role"`
	Content    json.RawMessage    `json:"content"`
	ToolCalls  []bridgeChatToolIn `json:"tool_calls"`
	ToolCallID string             `json:"tool_call_id"`
	Refusal    string             `json:"refusal"`
}

type bridgeChatToolIn struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function *struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// bridgeChatPart is one chat content part as far as the bridge reads it.
type bridgeChatPart struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text"`
	Refusal    *string         `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"`
	InputAudio json.RawMessage `json:"input_audio"`
	File       *struct {
		FileData string `json:"file_data"`
		FileID   string `json:"file_id"`
		Filename string `json:"filename"`
	} `json:"file"`
}

// Responses input items and content parts.
type (
	bridgeInputMessage struct {
		Type    string `json:"type"`
		Role    string `json:"role"`
		Content []any  `json:"content"`
	}
	bridgeTextPart struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	bridgeRefusalPart struct {
		Type    string `json:"type"`
		Refusal string `json:"refusal"`
	}
	bridgeImagePart struct {
		Type     string `json:"type"`
		ImageURL string `json:"image_url,omitempty"`
		FileID   string `json:"file_id,omitempty"`
		Detail   string `json:"detail"`
	}
	bridgeFilePart struct {
		Type     string `json:"type"`
		Filename string `json:"filename,omitempty"`
		FileData string `json:"file_data,omitempty"`
		FileID   string `json:"file_id,omitempty"`
	}
	bridgeAudioPart struct {
		Type       string          `json:"type"`
		InputAudio json.RawMessage `json:"input_audio"`
	}
	bridgeFunctionCall struct {
		Type      string `json:"type"`
		CallID    string `json:"call_id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	bridgeFunctionCallOutput struct {
		Type   string `json:"type"`
		CallID string `json:"call_id"`
		Output any    `json:"output"`
	}
)

// bridgeConvertMessages maps chat messages to Responses instructions and
// input items. Leading system/developer messages whose content is text are
// joined (after the caller's own instructions, if any) into the
// instructions; later ones keep their place as input messages.
func bridgeConvertMessages(raw json.RawMessage, instructions string) (string, []any, error) {
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return "", nil, bridgeBadRequest("messages", err, "messages must be an array")
	}
	input := make([]any, 0, len(msgs))
	var sys []string
	if instructions != "" {
		sys = append(sys, instructions)
	}
	leading := true
	for i, rm := range msgs {
		path := "messages[" + strconv.Itoa(i) + "]"
		var m bridgeChatMessage
		if err := json.Unmarshal(rm, &m); err != nil || bridgeIsNull(rm) {
			return "", nil, bridgeBadRequest(path, err, path+" must be a message object")
		}
		switch m.Role {
		case "system", "developer":
			if leading {
				if text, ok, err := bridgeTextOnly(m.Content, path); err != nil {
					return "", nil, err
				} else if ok {
					sys = append(sys, text)
					continue
				}
			}
			parts, err := bridgeInputParts(m.Content, path, "input_text")
			if err != nil {
				return "", nil, err
			}
			input = append(input, bridgeInputMessage{Type: "message", Role: m.Role, Content: parts})
		case "user":
			leading = false
			parts, err := bridgeInputParts(m.Content, path, "input_text")
			if err != nil {
				return "", nil, err
			}
			input = append(input, bridgeInputMessage{Type: "message", Role: "user", Content: parts})
		case "assistant":
			leading = false
			parts, err := bridgeInputParts(m.Content, path, "output_text")
			if err != nil {
				return "", nil, err
			}
			if m.Refusal != "" {
				parts = append(parts, bridgeRefusalPart{Type: "refusal", Refusal: m.Refusal})
			}
			if len(parts) > 0 || len(m.ToolCalls) == 0 {
				if parts == nil {
					parts = []any{}
				}
				input = append(input, bridgeInputMessage{Type: "message", Role: "assistant", Content: parts})
			}
			for j, tc := range m.ToolCalls {
				tpath := path + ".tool_calls[" + strconv.Itoa(j) + "]"
				if tc.Type != "" && tc.Type != "function" {
					return "", nil, bridgeBadRequest(tpath+".type", nil, tpath+": tool call type "+strconv.Quote(tc.Type)+" is not supported")
				}
				if tc.Function == nil || tc.ID == "" {
					return "", nil, bridgeBadRequest(tpath, nil, tpath+" needs an id and a function")
				}
				input = append(input, bridgeFunctionCall{
					Type: "function_call", CallID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments,
				})
			}
		case "tool":
			leading = false
			if m.ToolCallID == "" {
				return "", nil, bridgeBadRequest(path+".tool_call_id", nil, path+": a tool message needs tool_call_id")
			}
			var output any
			if text, ok, err := bridgeTextOnly(m.Content, path); err != nil {
				return "", nil, err
			} else if ok {
				output = text
			} else {
				parts, err := bridgeInputParts(m.Content, path, "input_text")
				if err != nil {
					return "", nil, err
				}
				output = parts
			}
			input = append(input, bridgeFunctionCallOutput{Type: "function_call_output", CallID: m.ToolCallID, Output: output})
		case "":
			return "", nil, bridgeBadRequest(path+".role", nil, path+": role is missing")
		default:
			return "", nil, bridgeBadRequest(path+".role", nil, path+": role "+strconv.Quote(m.Role)+" is not supported by the Responses API")
		}
	}
	return strings.Join(sys, "\n\n"), input, nil
}

// bridgeTextOnly returns the text of a content that is a string, null or a
// list of text parts only (joined with newlines). ok is false when the
// content holds other parts.
func bridgeTextOnly(content json.RawMessage, path string) (text string, ok bool, err error) {
	if len(content) == 0 || bridgeIsNull(content) {
		return "", true, nil
	}
	if content[0] == '"' {
		if err := json.Unmarshal(content, &text); err != nil {
			return "", false, bridgeBadRequest(path+".content", err, path+".content is not a valid string")
		}
		return text, true, nil
	}
	var parts []bridgeChatPart
	if err := json.Unmarshal(content, &parts); err != nil {
		return "", false, bridgeBadRequest(path+".content", err, path+".content must be a string or an array of parts")
	}
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", false, nil
		}
		texts = append(texts, *p.Text)
	}
	return strings.Join(texts, "\n"), true, nil
}

// bridgeInputParts converts a chat content (string or parts) into Responses
// content parts; textType is "input_text" or, for assistant messages,
// "output_text". Unknown part types are passed through unchanged.
func bridgeInputParts(content json.RawMessage, path, textType string) ([]any, error) {
	if len(content) == 0 || bridgeIsNull(content) {
		return nil, nil
	}
	if content[0] == '"' {
		var s string
		if err := json.Unmarshal(content, &s); err != nil {
			return nil, bridgeBadRequest(path+".content", err, path+".content is not a valid string")
		}
		if s == "" && textType == "output_text" {
			return nil, nil
		}
		return []any{bridgeTextPart{Type: textType, Text: s}}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(content, &raws); err != nil {
		return nil, bridgeBadRequest(path+".content", err, path+".content must be a string or an array of parts")
	}
	out := make([]any, 0, len(raws))
	for j, rp := range raws {
		ppath := path + ".content[" + strconv.Itoa(j) + "]"
		var p bridgeChatPart
		if err := json.Unmarshal(rp, &p); err != nil || bridgeIsNull(rp) {
			return nil, bridgeBadRequest(ppath, err, ppath+" must be a content part object")
		}
		switch p.Type {
		case "text":
			if p.Text == nil {
				return nil, bridgeBadRequest(ppath+".text", nil, ppath+": a text part needs text")
			}
			out = append(out, bridgeTextPart{Type: textType, Text: *p.Text})
		case "refusal":
			if p.Refusal == nil {
				return nil, bridgeBadRequest(ppath+".refusal", nil, ppath+": a refusal part needs refusal")
			}
			out = append(out, bridgeRefusalPart{Type: "refusal", Refusal: *p.Refusal})
		case "image_url":
			img, err := bridgeImage(p.ImageURL, ppath)
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		case "file":
			if p.File == nil || (p.File.FileData == "" && p.File.FileID == "") {
				return nil, bridgeBadRequest(ppath+".file", nil, ppath+": a file part needs file.file_data or file.file_id")
			}
			out = append(out, bridgeFilePart{
				Type: "input_file", Filename: p.File.Filename, FileData: p.File.FileData, FileID: p.File.FileID,
			})
		case "input_audio":
			if len(p.InputAudio) == 0 || bridgeIsNull(p.InputAudio) {
				return nil, bridgeBadRequest(ppath+".input_audio", nil, ppath+": an input_audio part needs input_audio")
			}
			out = append(out, bridgeAudioPart{Type: "input_audio", InputAudio: p.InputAudio})
		case "":
			return nil, bridgeBadRequest(ppath+".type", nil, ppath+": part type is missing")
		default:
			// Already a Responses part (input_text, input_image, ...) or
			// something new: pass it on unchanged.
			out = append(out, rp)
		}
	}
	return out, nil
}

// bridgeImage converts a chat image_url value (a string, or {url, detail})
// into an input_image part. Detail defaults to "auto", as the Responses API
// requires the field.
func bridgeImage(raw json.RawMessage, path string) (bridgeImagePart, error) {
	img := bridgeImagePart{Type: "input_image", Detail: "auto"}
	if len(raw) == 0 || bridgeIsNull(raw) {
		return img, bridgeBadRequest(path+".image_url", nil, path+": an image_url part needs image_url")
	}
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &img.ImageURL); err != nil {
			return img, bridgeBadRequest(path+".image_url", err, path+".image_url is not a valid string")
		}
	} else {
		var u struct {
			URL    string `json:"url"`
			Detail string `json:"detail"`
			FileID string `json:"file_id"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return img, bridgeBadRequest(path+".image_url", err, path+".image_url must be a string or {url, detail}")
		}
		img.ImageURL, img.FileID = u.URL, u.FileID
		if u.Detail != "" {
			img.Detail = u.Detail
		}
	}
	if img.ImageURL == "" && img.FileID == "" {
		return img, bridgeBadRequest(path+".image_url.url", nil, path+": image_url.url is empty")
	}
	return img, nil
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

// bridgeConvertReasoning sets out["reasoning"] from reasoning_effort and an
// optional caller-supplied reasoning (an effort string, or an object such as
// {effort, summary}). The reasoning object's own fields win over
// reasoning_effort.
func bridgeConvertReasoning(top, out map[string]json.RawMessage) error {
	delete(out, "reasoning_effort")
	var effort string
	if raw, ok := top["reasoning_effort"]; ok && !bridgeIsNull(raw) {
		if err := json.Unmarshal(raw, &effort); err != nil {
			return bridgeBadRequest("reasoning_effort", err, "reasoning_effort must be a string")
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

// bridgeResponse is a Responses API response object as far as the bridge
// reads it.
type bridgeResponse struct {
	ID                string                `json:"id"`
	CreatedAt         json.Number           `json:"created_at"`
	Model             string                `json:"model"`
	Status            string                `json:"status"`
	ServiceTier       string                `json:"service_tier"`
	Error             *bridgeError          `json:"error"`
	IncompleteDetails *bridgeIncomplete     `json:"incomplete_details"`
	Output            []bridgeOutputItem    `json:"output"`
	Usage             *bridgeResponsesUsage `json:"usage"`
}

type bridgeIncomplete struct {
	Reason string `json:"reason"`
}

type bridgeError struct {
	Code    json.RawMessage `json:"code"`
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Param   json.RawMessage `json:"param"`
}

type bridgeOutputItem struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Content []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Refusal string `json:"refusal"`
	} `json:"content"`
	Summary []struct {
		Text string `json:"text"`
	} `json:"summary"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type bridgeResponsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	TotalTokens        int `json:"total_tokens"`
	InputTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// Chat completion output shapes.
type (
	bridgeChatCompletion struct {
		ID          string             `json:"id"`
		Object      string             `json:"object"`
		Created     int64              `json:"created"`
		Model       string             `json:"model"`
		Choices     []bridgeChatChoice `json:"choices"`
		Usage       *bridgeChatUsage   `json:"usage,omitempty"`
		ServiceTier string             `json:"service_tier,omitempty"`
	}
	bridgeChatChoice struct {
		Index        int                  `json:"index"`
		Message      bridgeChatMessageOut `json:"message"`
		FinishReason string               `json:"finish_reason"`
	}
	bridgeChatMessageOut struct {
		Role             string              `json:"role"`
		Content          *string             `json:"content"`
		Refusal          *string             `json:"refusal,omitempty"`
		ReasoningContent string              `json:"reasoning_content,omitempty"`
		ToolCalls        []bridgeChatToolOut `json:"tool_calls,omitempty"`
	}
	bridgeChatToolOut struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	bridgeChatUsage struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		TotalTokens         int `json:"total_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details,omitempty"`
		CompletionTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details,omitempty"`
	}
)

// responsesToChat converts a Responses API response body into a chat
// completion body, returning its usage too.
//
// The output's reasoning items become message.reasoning_content (summary
// texts, or reasoning_text content when there is no summary, joined with
// blank lines), message items become message.content (output_text parts
// concatenated) and message.refusal, and function_call items become
// message.tool_calls in order. Other output items (built-in tool calls
// such as web_search_call) have no chat equivalent and are left out.
// finish_reason is "length" or "content_filter" for an incomplete response,
// else "tool_calls" when there are tool calls, else "stop".
//
// Errors are *provider.Error: a failed response or an error body yields the
// class its code implies (ClassServer when unknown); a body that is not a
// Responses object yields ClassConnection.
func responsesToChat(respBody []byte) ([]byte, provider.Usage, error) {
	var r bridgeResponse
	if err := json.Unmarshal(respBody, &r); err != nil || bridgeIsNull(respBody) {
		return nil, provider.Usage{}, &provider.Error{
			Class: provider.ClassConnection, Message: "openai: responses bridge: malformed Responses body", Err: err,
		}
	}
	switch r.Status {
	case "", "completed", "incomplete":
		if r.Error != nil {
			return nil, provider.Usage{}, bridgeUpstreamError(r.Error, "response returned an error")
		}
	case "failed":
		return nil, provider.Usage{}, bridgeUpstreamError(r.Error, "response failed")
	case "queued", "in_progress":
		return nil, provider.Usage{}, &provider.Error{
			Class:   provider.ClassBadRequest,
			Message: "openai: responses bridge: response status " + strconv.Quote(r.Status) + " (background mode) cannot become a chat completion",
		}
	default:
		return nil, provider.Usage{}, &provider.Error{
			Class: provider.ClassServer, Message: "openai: responses bridge: response status " + strconv.Quote(r.Status),
		}
	}

	msg := bridgeChatMessageOut{Role: "assistant"}
	var text, refusal strings.Builder
	var reasoning []string
	sawMessage, sawRefusal := false, false
	for _, item := range r.Output {
		switch item.Type {
		case "reasoning":
			n := len(reasoning)
			for _, s := range item.Summary {
				if s.Text != "" {
					reasoning = append(reasoning, s.Text)
				}
			}
			if len(reasoning) == n {
				for _, c := range item.Content {
					if c.Type == "reasoning_text" && c.Text != "" {
						reasoning = append(reasoning, c.Text)
					}
				}
			}
		case "message":
			sawMessage = true
			for _, c := range item.Content {
				switch c.Type {
				case "output_text":
					text.WriteString(c.Text)
				case "refusal":
					sawRefusal = true
					refusal.WriteString(c.Refusal)
				}
			}
		case "function_call":
			tc := bridgeChatToolOut{ID: item.CallID, Type: "function"}
			tc.Function.Name, tc.Function.Arguments = item.Name, item.Arguments
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
	}
	if sawMessage || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	if sawRefusal {
		s := refusal.String()
		msg.Refusal = &s
	}
	msg.ReasoningContent = strings.Join(reasoning, "\n\n")

	out := bridgeChatCompletion{
		ID: r.ID, Object: "chat.completion", Created: bridgeUnix(r.CreatedAt), Model: r.Model,
		ServiceTier: r.ServiceTier,
		Choices: []bridgeChatChoice{{
			Message:      msg,
			FinishReason: bridgeFinishReason(r.Status, r.IncompleteDetails, len(msg.ToolCalls) > 0),
		}},
	}
	var usage provider.Usage
	if r.Usage != nil {
		usage = bridgeUsage(r.Usage)
		out.Usage = bridgeChatUsageOf(r.Usage)
	}
	b, err := bridgeMarshal(out)
	if err != nil {
		return nil, provider.Usage{}, &provider.Error{Class: provider.ClassConnection, Message: "openai: responses bridge: encoding chat completion", Err: err}
	}
	return b, usage, nil
}

// bridgeFinishReason derives a chat finish_reason from a Responses status.
func bridgeFinishReason(status string, details *bridgeIncomplete, toolCalls bool) string {
	if status == "incomplete" {
		if details != nil && details.Reason == "content_filter" {
			return "content_filter"
		}
		return "length"
	}
	if toolCalls {
		return "tool_calls"
	}
	return "stop"
}

func bridgeUsage(u *bridgeResponsesUsage) provider.Usage {
	out := provider.Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	if u.InputTokensDetails != nil {
		out.CachedTokens = u.InputTokensDetails.CachedTokens
	}
	if u.OutputTokensDetails != nil {
		out.ReasoningTokens = u.OutputTokensDetails.ReasoningTokens
	}
	return out
}

func bridgeChatUsageOf(u *bridgeResponsesUsage) *bridgeChatUsage {
	pu := bridgeUsage(u)
	out := &bridgeChatUsage{PromptTokens: pu.PromptTokens, CompletionTokens: pu.CompletionTokens, TotalTokens: pu.TotalTokens}
	if u.InputTokensDetails != nil {
		out.PromptTokensDetails = &struct {
			CachedTokens int `json:"cached_tokens"`
		}{pu.CachedTokens}
	}
	if u.OutputTokensDetails != nil {
		out.CompletionTokensDetails = &struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		}{pu.ReasoningTokens}
	}
	return out
}

// bridgeUnix reads created_at, which is integer seconds but may be sent as
// a float by OpenAI-compatible servers.
func bridgeUnix(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return int64(f)
	}
	return 0
}

// bridgeUpstreamError turns a Responses error object into a *provider.Error.
func bridgeUpstreamError(e *bridgeError, fallback string) *provider.Error {
	pe := &provider.Error{Class: provider.ClassServer, Message: "openai: responses bridge: " + fallback}
	if e == nil {
		return pe
	}
	pe.Code = bridgeRawString(e.Code)
	pe.Type = e.Type
	pe.Param = bridgeRawString(e.Param)
	if e.Message != "" {
		pe.Message = e.Message
	}
	// The classifier of HTTP errors and error frames, with no status: the
	// call was accepted and then failed.
	pe.Class = wire.Classify(0, pe.Type, pe.Code, e.Message)
	return pe
}

// bridgeRawString reads a JSON value that should be a string but may be a
// number or null.
func bridgeRawString(raw json.RawMessage) string {
	if len(raw) == 0 || bridgeIsNull(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

// newBridgeStream wraps a stream of Responses API events into a stream of
// chat.completion.chunk events (Name empty, Data a chunk object), as a chat
// caller expects:
//
//   - a first chunk with delta {"role": "assistant", "content": ""};
//   - response.output_text.delta -> delta.content, response.refusal.delta
//     -> delta.refusal, response.reasoning_summary_text.delta and
//     response.reasoning_text.delta -> delta.reasoning_content (separate
//     summary parts are joined with a blank line, as responsesToChat does);
//   - a function_call output item -> delta.tool_calls [{index, id, type,
//     function:{name, arguments: ""}}], its argument deltas ->
//     [{index, function:{arguments}}];
//   - response.completed / response.incomplete -> a chunk with an empty
//     delta and the finish_reason, then, when the response reports usage,
//     a chunk with "choices": [] and "usage".
//
// response.failed and error events end the stream with a *provider.Error
// classified by their code (ClassServer when unknown). An inner stream that
// ends before response.completed yields the inner error, or a
// ClassConnection error: never a silent truncation. Events are read from
// their SSE name, or from their "type" field when the name is absent.
func newBridgeStream(s provider.Stream) provider.Stream {
	return &bridgeStream{in: s}
}

// bridgeStream converts Responses events to chat chunks; see newBridgeStream.
// Not safe for concurrent use, like every provider.Stream.
type bridgeStream struct {
	in provider.Stream

	prefix  []byte // `{"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":`
	started bool   // the role chunk was sent
	done    bool   // a terminal event was handled or the inner stream ended
	err     error

	tools      []bridgeStreamTool
	reasonKey  string // item and part of the last reasoning delta
	reasonSent bool

	usage provider.Usage

	ev   bridgeEvent
	buf  []byte // chunks produced by the last inner event
	ends []int  // end offsets of those chunks in buf
	next int    // index of the next chunk to deliver
	cur  []byte
}

type bridgeStreamTool struct {
	itemID      string
	outputIndex int
	argsSent    bool
}

// bridgeEvent is the union of the Responses stream events the bridge reads.
type bridgeEvent struct {
	Type         string            `json:"type"`
	Delta        json.RawMessage   `json:"delta"`
	ItemID       string            `json:"item_id"`
	OutputIndex  int               `json:"output_index"`
	SummaryIndex int               `json:"summary_index"`
	ContentIndex int               `json:"content_index"`
	Arguments    string            `json:"arguments"`
	Item         *bridgeOutputItem `json:"item"`
	Response     *bridgeResponse   `json:"response"`
	Code         json.RawMessage   `json:"code"`
	Message      string            `json:"message"`
	Param        json.RawMessage   `json:"param"`
	Error        *bridgeError      `json:"error"`
}

func (s *bridgeStream) Header() http.Header { return s.in.Header() }
func (s *bridgeStream) Close() error        { return s.in.Close() }
func (s *bridgeStream) Err() error          { return s.err }

// Usage returns the usage of response.completed mapped to chat terms, zero
// before it arrives.
func (s *bridgeStream) Usage() provider.Usage { return s.usage }

// Event returns the current chat chunk.
func (s *bridgeStream) Event() provider.Event { return provider.Event{Data: s.cur} }

// Next advances to the next chat chunk, reading as many Responses events as
// it takes to produce one.
func (s *bridgeStream) Next() bool {
	for {
		if s.next < len(s.ends) {
			start := 0
			if s.next > 0 {
				start = s.ends[s.next-1]
			}
			s.cur = s.buf[start:s.ends[s.next]]
			s.next++
			return true
		}
		s.buf, s.ends, s.next, s.cur = s.buf[:0], s.ends[:0], 0, nil
		if s.done {
			return false
		}
		if !s.in.Next() {
			s.done = true
			if err := s.in.Err(); err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) {
					c := provider.ClassOf(err)
					if c == provider.ClassUnknown {
						c = provider.ClassConnection
					}
					err = &provider.Error{Class: c, Message: "openai: responses stream", Err: err}
				}
				s.err = err
			} else {
				s.err = &provider.Error{
					Class:   provider.ClassConnection,
					Message: "openai: responses stream truncated: it ended before response.completed",
				}
			}
			continue
		}
		if err := s.handle(s.in.Event()); err != nil {
			s.done, s.err = true, err
			s.buf, s.ends = s.buf[:0], s.ends[:0]
		}
	}
}

// handle converts one Responses event into zero or more chunks in s.buf.
func (s *bridgeStream) handle(e provider.Event) error {
	delta := s.ev.Delta[:0]
	s.ev = bridgeEvent{Delta: delta}
	if err := json.Unmarshal(e.Data, &s.ev); err != nil {
		return &provider.Error{
			Class: provider.ClassConnection, Message: "openai: responses stream: malformed event " + strconv.Quote(e.Name), Err: err,
		}
	}
	ev := &s.ev
	name := e.Name
	if name == "" {
		name = ev.Type
	}
	switch name {
	case "response.created", "response.in_progress", "response.queued":
		if ev.Response != nil {
			s.setPrefix(ev.Response)
		}
		if name == "response.created" {
			s.start()
		}
	case "response.output_text.delta":
		return s.deltaChunk(`{"content":`, "", ev.Delta, name)
	case "response.refusal.delta":
		return s.deltaChunk(`{"refusal":`, "", ev.Delta, name)
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		idx := ev.SummaryIndex
		if name == "response.reasoning_text.delta" {
			idx = ev.ContentIndex
		}
		key := ev.ItemID + "\x00" + strconv.Itoa(idx)
		sep := ""
		if s.reasonSent && key != s.reasonKey {
			sep = `\n\n`
		}
		s.reasonKey, s.reasonSent = key, true
		return s.deltaChunk(`{"reasoning_content":`, sep, ev.Delta, name)
	case "response.output_item.added", "response.output_item.done":
		if ev.Item == nil || ev.Item.Type != "function_call" {
			return nil
		}
		i, ok := s.tool(ev.Item.ID, ev.OutputIndex)
		if !ok {
			i = s.addTool(ev.Item.ID, ev.OutputIndex)
			s.toolChunk(i, ev.Item.CallID, ev.Item.Name, ev.Item.Arguments, true)
			s.tools[i].argsSent = ev.Item.Arguments != ""
		} else if !s.tools[i].argsSent && ev.Item.Arguments != "" {
			s.toolChunk(i, "", "", ev.Item.Arguments, false)
			s.tools[i].argsSent = true
		}
	case "response.function_call_arguments.delta":
		if len(ev.Delta) == 0 || ev.Delta[0] != '"' {
			return bridgeMalformed(name, "delta is not a string")
		}
		i, ok := s.tool(ev.ItemID, ev.OutputIndex)
		if !ok {
			i = s.addTool(ev.ItemID, ev.OutputIndex)
		}
		s.tools[i].argsSent = true
		s.start()
		s.chunkStart()
		s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
		s.buf = strconv.AppendInt(s.buf, int64(i), 10)
		s.buf = append(s.buf, `,"function":{"arguments":`...)
		s.buf = append(s.buf, ev.Delta...)
		s.buf = append(s.buf, `}}]}`...)
		s.chunkEnd("null")
	case "response.function_call_arguments.done":
		if i, ok := s.tool(ev.ItemID, ev.OutputIndex); ok && !s.tools[i].argsSent && ev.Arguments != "" {
			s.toolChunk(i, "", "", ev.Arguments, false)
			s.tools[i].argsSent = true
		}
	case "response.completed", "response.incomplete":
		r := ev.Response
		if r == nil {
			r = &bridgeResponse{}
		}
		s.setPrefix(r)
		status := r.Status
		if name == "response.incomplete" {
			status = "incomplete"
		}
		s.start()
		s.chunkStart()
		s.buf = append(s.buf, `{}`...)
		s.chunkEnd(strconv.Quote(bridgeFinishReason(status, r.IncompleteDetails, len(s.tools) > 0)))
		if r.Usage != nil {
			s.usage = bridgeUsage(r.Usage)
			u, err := bridgeMarshal(bridgeChatUsageOf(r.Usage))
			if err != nil {
				return &provider.Error{Class: provider.ClassConnection, Message: "openai: responses stream: usage", Err: err}
			}
			s.buf = append(s.buf, s.prefix...)
			s.buf = append(s.buf, `[],"usage":`...)
			s.buf = append(s.buf, u...)
			s.buf = append(s.buf, '}')
			s.ends = append(s.ends, len(s.buf))
		}
		s.done = true
	case "response.failed":
		var e *bridgeError
		if ev.Response != nil {
			e = ev.Response.Error
		}
		return bridgeUpstreamError(e, "response failed")
	case "error":
		e := ev.Error
		if e == nil {
			e = &bridgeError{Code: ev.Code, Message: ev.Message, Param: ev.Param}
		}
		return bridgeUpstreamError(e, "error event")
	default:
		// A chat-style {"error": {...}} frame without a name or type.
		if name == "" && ev.Error != nil {
			return bridgeUpstreamError(ev.Error, "error event")
		}
	}
	return nil
}

// setPrefix fixes the id, created and model of the chunks from r.
func (s *bridgeStream) setPrefix(r *bridgeResponse) {
	if s.prefix != nil && r.ID == "" {
		return
	}
	id, _ := bridgeMarshal(r.ID)
	model, _ := bridgeMarshal(r.Model)
	p := make([]byte, 0, 96+len(id)+len(model))
	p = append(p, `{"id":`...)
	p = append(p, id...)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, bridgeUnix(r.CreatedAt), 10)
	p = append(p, `,"model":`...)
	p = append(p, model...)
	p = append(p, `,"choices":`...)
	s.prefix = p
}

// start emits the role chunk once, before any other chunk.
func (s *bridgeStream) start() {
	if s.started {
		return
	}
	s.started = true
	s.chunkStart()
	s.buf = append(s.buf, `{"role":"assistant","content":""}`...)
	s.chunkEnd("null")
}

// chunkStart opens a chunk up to its delta value; chunkEnd closes it with
// the given finish_reason (a JSON value).
func (s *bridgeStream) chunkStart() {
	if s.prefix == nil {
		s.setPrefix(&bridgeResponse{})
	}
	s.buf = append(s.buf, s.prefix...)
	s.buf = append(s.buf, `[{"index":0,"delta":`...)
}

func (s *bridgeStream) chunkEnd(finish string) {
	s.buf = append(s.buf, `,"finish_reason":`...)
	s.buf = append(s.buf, finish...)
	s.buf = append(s.buf, `}]}`...)
	s.ends = append(s.ends, len(s.buf))
}

// deltaChunk emits a chunk whose delta is open + the JSON string raw with
// sep (already JSON-escaped) prepended to its text.
func (s *bridgeStream) deltaChunk(open, sep string, raw json.RawMessage, name string) error {
	if len(raw) < 2 || raw[0] != '"' {
		return bridgeMalformed(name, "delta is not a string")
	}
	s.start()
	s.chunkStart()
	s.buf = append(s.buf, open...)
	s.buf = append(s.buf, '"')
	s.buf = append(s.buf, sep...)
	s.buf = append(s.buf, raw[1:]...)
	s.buf = append(s.buf, '}')
	s.chunkEnd("null")
	return nil
}

// toolChunk emits a tool call delta for tool i; the first one carries the
// id, type and name.
func (s *bridgeStream) toolChunk(i int, callID, name, args string, first bool) {
	s.start()
	s.chunkStart()
	s.buf = append(s.buf, `{"tool_calls":[{"index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(i), 10)
	if first {
		s.buf = append(s.buf, `,"id":`...)
		s.buf = append(s.buf, bridgeMustMarshal(callID)...)
		s.buf = append(s.buf, `,"type":"function","function":{"name":`...)
		s.buf = append(s.buf, bridgeMustMarshal(name)...)
		s.buf = append(s.buf, ',')
	} else {
		s.buf = append(s.buf, `,"function":{`...)
	}
	s.buf = append(s.buf, `"arguments":`...)
	s.buf = append(s.buf, bridgeMustMarshal(args)...)
	s.buf = append(s.buf, `}}]}`...)
	s.chunkEnd("null")
}

// tool finds the tool call of an output item, by item id when known, else
// by output index.
func (s *bridgeStream) tool(itemID string, outputIndex int) (int, bool) {
	for i, t := range s.tools {
		if itemID != "" && t.itemID != "" {
			if t.itemID == itemID {
				return i, true
			}
			continue
		}
		if t.outputIndex == outputIndex {
			return i, true
		}
	}
	return 0, false
}

func (s *bridgeStream) addTool(itemID string, outputIndex int) int {
	s.tools = append(s.tools, bridgeStreamTool{itemID: itemID, outputIndex: outputIndex})
	return len(s.tools) - 1
}

func bridgeMalformed(event, what string) error {
	return &provider.Error{
		Class:   provider.ClassConnection,
		Message: "openai: responses stream: malformed event " + strconv.Quote(event) + ": " + what,
	}
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

func bridgeIsNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// bridgeMarshal encodes v as JSON without HTML escaping and without a
// trailing newline.
func bridgeMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// bridgeMustMarshal encodes values that cannot fail to encode (strings,
// slices of raw JSON already validated).
func bridgeMustMarshal(v any) []byte {
	b, err := bridgeMarshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
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
