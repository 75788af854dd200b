package provider

import (
	"encoding/json"
	"errors"
	"strconv"
)

// TranscriptionRequest is a POST /v1/audio/transcriptions upload. It is
// sent as multipart/form-data, not JSON: ToRequest builds the [Form].
type TranscriptionRequest struct {
	Model string
	// File is the audio; FileName (such as "speech.mp3") tells the
	// upstream its format.
	File            []byte
	FileName        string
	FileContentType string
	// Language is the audio's ISO-639-1 language, such as "en".
	Language string
	Prompt   string
	// ResponseFormat is "json" (the default), "text", "srt",
	// "verbose_json" or "vtt".
	ResponseFormat string
	Temperature    *float64
	// TimestampGranularities ("word", "segment") need verbose_json.
	TimestampGranularities []string
	// Extra holds further form fields, sent after the modelled ones in
	// order.
	Extra []FormField
}

// ToRequest builds the transcription Request. Model, File and FileName must
// be set. The form's fields are language, prompt, response_format,
// temperature and timestamp_granularities[] (when set), then Extra.
func (r *TranscriptionRequest) ToRequest() (*Request, error) {
	switch {
	case r.Model == "":
		return nil, errors.New("provider: TranscriptionRequest.Model is empty")
	case len(r.File) == 0:
		return nil, errors.New("provider: TranscriptionRequest.File is empty")
	case r.FileName == "":
		return nil, errors.New("provider: TranscriptionRequest.FileName is empty")
	}
	form := &Form{FileName: r.FileName, FileContentType: r.FileContentType, File: r.File}
	add := func(name, value string) {
		if value != "" {
			form.Fields = append(form.Fields, FormField{Name: name, Value: value})
		}
	}
	add("language", r.Language)
	add("prompt", r.Prompt)
	add("response_format", r.ResponseFormat)
	if r.Temperature != nil {
		add("temperature", strconv.FormatFloat(*r.Temperature, 'g', -1, 64))
	}
	for _, g := range r.TimestampGranularities {
		add("timestamp_granularities[]", g)
	}
	form.Fields = append(form.Fields, r.Extra...)
	return &Request{Endpoint: EndpointTranscriptions, Model: r.Model, Form: form}, nil
}

// TranscriptionResponse is a transcription in the "json" or "verbose_json"
// format; the other formats are plain text, to be read from the body as
// is. Unknown fields (language, duration, segments, usage, ...) are kept in
// Extra, as for [ChatRequest].
type TranscriptionResponse struct {
	Text  string                     `json:"text"`
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r TranscriptionResponse) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *TranscriptionResponse) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }
