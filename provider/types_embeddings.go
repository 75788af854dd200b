package provider

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// EmbeddingRequest is a POST /v1/embeddings request body. Unknown fields
// are kept in Extra, as for [ChatRequest].
type EmbeddingRequest struct {
	Model string `json:"model,omitempty"`
	// Input is a string, a []string, or token arrays ([]int, [][]int).
	// Decoded lists of strings are []string; other lists are []any with
	// json.Number elements.
	Input any `json:"input,omitempty"`
	// EncodingFormat is "float" (the default) or "base64".
	EncodingFormat string                     `json:"encoding_format,omitempty"`
	Dimensions     int                        `json:"dimensions,omitempty"`
	User           string                     `json:"user,omitempty"`
	Extra          map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r EmbeddingRequest) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *EmbeddingRequest) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// ToRequest encodes r as the body of an embeddings Request. Model must be
// set.
func (r *EmbeddingRequest) ToRequest() (*Request, error) {
	return toRequest(EndpointEmbeddings, "EmbeddingRequest", r.Model, false, r)
}

// EmbeddingResponse is an embeddings answer (object "list").
type EmbeddingResponse struct {
	Object string                     `json:"object,omitempty"`
	Data   []Embedding                `json:"data,omitempty"`
	Model  string                     `json:"model,omitempty"`
	Usage  *UsageBody                 `json:"usage,omitempty"`
	Extra  map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r EmbeddingResponse) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *EmbeddingResponse) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// Embedding is one input's embedding.
type Embedding struct {
	Object string `json:"object,omitempty"`
	Index  int    `json:"index"`
	// Embedding is the vector as sent: a list of numbers, or a base64
	// string of little-endian float32s when encoding_format was "base64".
	// Vector decodes either form.
	Embedding json.RawMessage            `json:"embedding,omitempty"`
	Extra     map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (e Embedding) MarshalJSON() ([]byte, error) { return marshalExtra(&e) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (e *Embedding) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, e) }

// Vector decodes the embedding, in either the float or the base64 form.
func (e *Embedding) Vector() ([]float32, error) {
	raw := trimSpace(e.Embedding)
	if len(raw) == 0 {
		return nil, errors.New("provider: embedding is empty")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("provider: decoding embedding: %w", err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("provider: decoding base64 embedding: %w", err)
		}
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("provider: base64 embedding has %d bytes, not a multiple of 4", len(b))
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v, nil
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("provider: decoding embedding: %w", err)
	}
	return v, nil
}
