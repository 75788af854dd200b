package openai

// The bridge's conversion of chat messages and their content parts into
// Responses input items and instructions (see bridge_request.go).

import (
	"encoding/json"
	"strconv"
	"strings"
)

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
