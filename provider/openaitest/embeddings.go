package openaitest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
)

// DefaultDimensions is the length of an embedding when the request does not
// ask for "dimensions".
const DefaultDimensions = 8

// Bounds on an embeddings request, beyond which it is refused with 400.
const (
	maxEmbeddingInputs = 2048
	maxDimensions      = 4096
)

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  plainUsageNoOut `json:"usage"`
}

type embeddingData struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type plainUsageNoOut struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// embeddingInputs splits an embeddings "input" into its inputs: a string,
// a list of strings, a token array or a list of token arrays. Each input
// is returned as the bytes its vector is derived from, with its token
// count.
func embeddingInputs(raw json.RawMessage) (inputs [][]byte, tokens []int, ok bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return [][]byte{[]byte(s)}, []int{tokensOf(s)}, s != ""
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		for _, s := range strs {
			if s == "" {
				return nil, nil, false
			}
			inputs, tokens = append(inputs, []byte(s)), append(tokens, tokensOf(s))
		}
		return inputs, tokens, len(inputs) > 0
	}
	var toks []int
	if json.Unmarshal(raw, &toks) == nil {
		return [][]byte{raw}, []int{len(toks)}, len(toks) > 0
	}
	var lists [][]int
	if json.Unmarshal(raw, &lists) == nil {
		for _, l := range lists {
			if len(l) == 0 {
				return nil, nil, false
			}
			b, _ := json.Marshal(l)
			inputs, tokens = append(inputs, b), append(tokens, len(l))
		}
		return inputs, tokens, len(inputs) > 0
	}
	return nil, nil, false
}

// Vector returns the embedding the fake answers for input: dims float32
// values derived from an FNV-1a hash of the input, normalised to unit
// length, as OpenAI's are. Tests can compare against it.
func Vector(input string, dims int) []float32 {
	return vector([]byte(input), dims)
}

func vector(input []byte, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write(input)
	x := h.Sum64()
	v := make([]float32, max(dims, 0))
	var norm float64
	for i := range v {
		// splitmix64 steps give well-spread values in [-1, 1).
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		f := float64(z>>11)/float64(1<<53)*2 - 1
		v[i] = float32(f)
		norm += f * f
	}
	if norm > 0 {
		n := math.Sqrt(norm)
		for i := range v {
			v[i] = float32(float64(v[i]) / n)
		}
	}
	return v
}

func (c *call) embeddings() {
	inputs, tokens, ok := embeddingInputs(c.req.Input)
	if !ok {
		c.badRequest("input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
		return
	}
	if len(inputs) > maxEmbeddingInputs {
		c.badRequest("input", "Too many inputs. The max number of inputs is "+strconv.Itoa(maxEmbeddingInputs)+".")
		return
	}
	dims := DefaultDimensions
	if c.req.Dimensions != nil {
		dims = *c.req.Dimensions
		if dims < 1 || dims > maxDimensions {
			c.fail(http.StatusBadRequest, apiError{Message: "Invalid value for 'dimensions' = " + strconv.Itoa(dims) + ". Must be between 1 and " + strconv.Itoa(maxDimensions) + ".", Type: "invalid_request_error", Param: "dimensions"})
			return
		}
	}
	b64 := false
	switch c.req.EncodingFormat {
	case "", "float":
	case "base64":
		b64 = true
	default:
		c.badRequest("encoding_format", "Invalid value for 'encoding_format': "+strconv.Quote(c.req.EncodingFormat)+". Supported values are: 'float' and 'base64'.")
		return
	}
	if !c.sleep(c.h.cfg.latency) {
		return
	}
	resp := embeddingResponse{Object: "list", Model: c.chatModel(), Data: make([]embeddingData, len(inputs))}
	for i, in := range inputs {
		v := vector(in, dims)
		resp.Data[i] = embeddingData{Object: "embedding", Index: i, Embedding: v}
		if b64 {
			raw := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(f))
			}
			resp.Data[i].Embedding = base64.StdEncoding.EncodeToString(raw)
		}
		resp.Usage.PromptTokens += tokens[i]
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	c.writeOK(&resp)
}
