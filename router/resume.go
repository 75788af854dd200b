package router

// Mid-stream recovery: a chat stream that breaks after part of the answer
// reached the caller is continued on another deployment of its group, and
// the continuation is spliced into the StreamResult the caller is reading.

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/tokens"
)

// StreamResume configures mid-stream recovery of chat completion streams
// (Settings.StreamResume; per call, WithStreamResume). The zero value is
// off.
//
// When a chat stream breaks after its first event reached the caller (the
// connection cut, an error event from the upstream, the stream timeout
// between two chunks), the router sends the original request again to
// another deployment of the same model group, with the answer delivered
// so far appended as a partial assistant message, and splices the
// continuation into the same StreamResult:
//
//   - The caller reads one stream: the continuation's chunks carry the
//     first chunk's id, created and model; its role chunk (and any chunk
//     with neither a delta nor usage, such as Azure's prompt filter
//     results) is not delivered.
//   - The seam is marked: the first spliced chunk has the top-level field
//     "switchyard_resumed": true (JSON decoders, the official SDKs'
//     included, ignore it), StreamResult.Seam reports it, the HTTP handler
//     writes the SSE comment line ": switchyard resumed after N chunks"
//     before it, and the hooks see the cut attempt (with its error and
//     WillRetry) and the resumed one (AttemptInfo.Resumed,
//     ResumedAfterChunks).
//   - Usage is that of both attempts: each is recorded to its own
//     deployment (for tpm accounting) and priced on it, and the caller's
//     final usage chunk, StreamResult.Usage and RequestInfo.Usage hold the
//     sum. A cut attempt reports no usage of its own (its usage chunk never
//     came), so the router estimates it (the prompt and the delivered text
//     counted with provider/tokens; AttemptInfo.UsageEstimated).
//   - A stream is resumed at most MaxResumes times. A resume that cannot
//     open (no other deployment available, every one failing before its
//     first event) ends the stream with the error that cut it, as without
//     recovery; its attempts are in StreamResult.Attempts and the hooks.
//     Resume attempts never wait (no backoff, no cooldown wait: the caller
//     is mid-answer); they go to deployments not tried for this stream,
//     as many as the retry policy allows for the cut's class.
//
// A stream is never resumed when its request asks for n > 1, when any
// delta carried tool calls, a function call, reasoning or a refusal (a
// continuation could not be spliced faithfully), after a chunk with a
// finish_reason (the answer was whole), when the caller ended it (its
// context or Close), or for an error the retry policy never retries (the
// caller's mistakes, x-should-retry: false). Only chat completions are
// resumed: legacy completions and Responses streams (whose events carry
// sequence numbers and item ids) end with the error, as without recovery.
// A stream replayed from the response cache has nothing to resume.
//
// Recovery is off by default because the cut attempt is still charged by
// its upstream, and because the continuation is another model call: it
// may not continue the text seamlessly on every provider (see
// Continuation).
type StreamResume struct {
	// Enabled turns recovery on for every chat stream of the router;
	// WithStreamResume overrides it per call, either way.
	Enabled bool
	// MaxResumes bounds how many times one stream is resumed. 0 means
	// DefaultMaxResumes (1).
	MaxResumes int
	// Continuation sets how the partial answer is sent, per provider: the
	// prefix of a deployment's Model before the first "/" ("deepseek" for
	// "deepseek/deepseek-chat"), "openai" for a Model without one. A
	// provider not listed (or listed as ContinuationAuto) gets the
	// convention it is known for: ContinuationPrefix for deepseek, mistral
	// and codestral, ContinuationContinueFinalMessage for hosted_vllm,
	// vllm and sglang, ContinuationAssistant for the others.
	// ContinuationOff keeps a provider's deployments out of resumes.
	Continuation map[string]Continuation
}

// DefaultMaxResumes is how many times a stream is resumed when
// StreamResume.MaxResumes is 0.
const DefaultMaxResumes = 1

// Continuation is how a resume sends the answer delivered so far: always
// as a last message {"role": "assistant", "content": <the text so far>}
// after the original messages, marked as the provider expects. When the
// partial answer is empty (the stream broke after its role chunk) the
// original request is sent unchanged. A max_tokens or
// max_completion_tokens in the request is lowered by the tokens already
// delivered, so that the whole answer keeps to it.
type Continuation uint8

// The continuation conventions.
const (
	// ContinuationAuto picks the provider's convention (see
	// StreamResume.Continuation).
	ContinuationAuto Continuation = iota
	// ContinuationAssistant sends the assistant message as it is. OpenAI
	// documents no continuation convention: its models (and servers that
	// treat a final assistant message as a prefill, such as llama.cpp and
	// Ollama) usually go on from it, but may start the answer again.
	// LiteLLM's mid-stream fallback added a system message asking the
	// model to continue; that overrode the caller's own instructions and
	// language (LiteLLM issue 18229) and was later removed, so no
	// instruction is added here.
	ContinuationAssistant
	// ContinuationPrefix adds "prefix": true to the assistant message, as
	// DeepSeek's and Mistral's APIs ask for a prefill. Providers that
	// reject a prefill (LiteLLM issue 27967) should be set to
	// ContinuationOff or ContinuationAssistant.
	ContinuationPrefix
	// ContinuationContinueFinalMessage adds "continue_final_message": true
	// and "add_generation_prompt": false to the request, as vLLM and
	// SGLang ask for.
	ContinuationContinueFinalMessage
	// ContinuationOff never resumes a stream on this provider's
	// deployments.
	ContinuationOff
	numContinuations
)

var continuationNames = [...]string{"auto", "assistant", "prefix", "continue_final_message", "off"}

// String returns the convention's snake_case name.
func (c Continuation) String() string {
	if c < numContinuations {
		return continuationNames[c]
	}
	return "continuation(" + strconv.Itoa(int(c)) + ")"
}

// checkStreamResume checks Settings.StreamResume.
func checkStreamResume(s StreamResume) error {
	if s.MaxResumes < 0 {
		return configErr("Settings.StreamResume.MaxResumes", "must not be negative, got %d", s.MaxResumes)
	}
	for _, p := range sortedKeys(s.Continuation) {
		if p == "" || strings.Contains(p, "/") {
			return configErr("Settings.StreamResume.Continuation", "%q is not a provider prefix (such as \"openai\", \"deepseek\")", p)
		}
		if c := s.Continuation[p]; c >= numContinuations {
			return configErr("Settings.StreamResume.Continuation["+p+"]", "unknown continuation %s", c)
		}
	}
	return nil
}

// providerOf returns the provider prefix of a deployment's Model, "openai"
// when it has none.
func providerOf(model string) string {
	if p, _, ok := strings.Cut(model, "/"); ok {
		return p
	}
	return "openai"
}

// continuationFor returns the convention used to send a partial answer
// to d.
func (s *StreamResume) continuationFor(d *deployment.Deployment) Continuation {
	p := providerOf(d.Config().Model)
	if c, ok := s.Continuation[p]; ok && c != ContinuationAuto {
		return c
	}
	switch p {
	case "deepseek", "mistral", "codestral":
		return ContinuationPrefix
	case "hosted_vllm", "vllm", "sglang":
		return ContinuationContinueFinalMessage
	}
	return ContinuationAssistant
}

// continuationBody returns the request body of a resume: body with the
// partial answer appended to its messages as the convention c marks it,
// and max_tokens (max_completion_tokens) lowered by the tokens delivered.
func continuationBody(body []byte, partial string, delivered int, c Continuation) ([]byte, error) {
	if partial == "" {
		return body, nil
	}
	msg, err := json.Marshal(partial)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(msg)+96)
	out = append(out, '{')
	first, sawMessages := true, false
	it := jsonscan.Members(body, jsonscan.Fast)
	for it.Next() {
		key := it.KeyString()
		v := it.Value()
		switch key {
		case "continue_final_message", "add_generation_prompt":
			if c == ContinuationContinueFinalMessage {
				continue
			}
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, '"')
		out = append(out, it.Key()...)
		out = append(out, '"', ':')
		switch key {
		case "messages":
			if len(v) < 2 || v[0] != '[' {
				return nil, errNoMessages
			}
			sawMessages = true
			el := jsonscan.Elements(v, jsonscan.Fast)
			empty := !el.Next()
			out = append(out, strings.TrimRight(string(v[:len(v)-1]), " \t\r\n")...)
			if !empty {
				out = append(out, ',')
			}
			out = append(out, `{"role":"assistant","content":`...)
			out = append(out, msg...)
			if c == ContinuationPrefix {
				out = append(out, `,"prefix":true`...)
			}
			out = append(out, "}]"...)
			continue
		case "max_tokens", "max_completion_tokens":
			if n, err := strconv.Atoi(string(v)); err == nil && n > 0 {
				out = strconv.AppendInt(out, int64(max(n-delivered, 1)), 10)
				continue
			}
		}
		out = append(out, v...)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	if !sawMessages {
		return nil, errNoMessages
	}
	if c == ContinuationContinueFinalMessage {
		out = append(out, `,"continue_final_message":true,"add_generation_prompt":false`...)
	}
	return append(out, '}'), nil
}

// errNoMessages: a chat body without a messages array cannot carry a
// partial answer (the upstream would have refused it already).
var errNoMessages = errors.New("router: resume: the request has no messages array")

// resume tries to continue the stream after its live attempt broke with
// err, reporting whether a resume opened: then the live attempt is the
// resume's, with its first event pending. When it reports false the
// stream ends with err; the cut attempt has been ended already when a
// resume was tried.
func (s *StreamResult) resume(err error) bool {
	st, rs := s.st, s.st.rs
	if !rs.ok || rs.tries >= rs.max || st.ctx.Err() != nil || st.live.dep == nil {
		return false
	}
	cut := normalizeErr(err, st.live.dep, st.ctx, st.ctx)
	if cut.RetryScope() == provider.RetryNever {
		return false
	}
	rs.tries++
	failed := st.live
	rs.broken = append(rs.broken, failed.dep.ID())
	_ = st.inner.Close() // ended already; Close releases what a client may hold
	a, ac := st.endAttempt(cut, false, true)
	rs.prev, rs.prevCost, rs.ended = addUsage(rs.prev, a.usage), rs.prevCost+ac, true
	if i := rs.attempt; i >= 0 && i < len(s.Attempts) {
		s.Attempts[i].Err, s.Attempts[i].Class = cut, cut.Class
	}

	r := st.r
	c := r.newCall(st.ctx, rs.req, true, nil)
	defer r.freeCall(c)
	c.opts = rs.opts
	c.opts.resume.after = rs.chunks
	if c.prepare() != nil {
		return false
	}
	g := c.snap.groups[failed.group.name]
	if g == nil {
		return false
	}
	c.groupsTried = append(c.groupsTried, g.name)
	c.setServing(g)
	set := &r.set.StreamResume
	for _, d := range g.deps {
		if slices.Contains(rs.broken, d.ID()) || set.continuationFor(d) == ContinuationOff {
			c.leftOut = append(c.leftOut, leftOut{d: d, permanent: true})
		}
	}
	delivered := tokens.Count(failed.dep.Config().Model, string(rs.content))
	var bodies [numContinuations][]byte
	limit := 1 + c.retryLimit(cut.Class, true)
	opened := false
	for made := 0; made < limit && st.ctx.Err() == nil; {
		d := c.pickDeployment(g)
		if d == nil {
			break
		}
		conv := set.continuationFor(d)
		if bodies[conv] == nil {
			b, err := continuationBody(rs.req.Body, string(rs.content), delivered, conv)
			if err != nil {
				break
			}
			bodies[conv] = b
		}
		req := *rs.req
		req.Body = bodies[conv]
		c.req = &req
		at := c.try(g, d)
		if at.busy {
			continue // d refused at Begin and is left out
		}
		made++
		retry := failed.retry + made
		if at.err == nil {
			c.served.retry, c.served.fallback = retry, failed.fallback
			opened = true
			break
		}
		c.leaveOut(d, &at, false)
		again := made < limit && at.err.RetryScope() != provider.RetryNever
		c.attemptHook(g, d, &at, retry, failed.fallback, again)
		if !again {
			break
		}
	}
	s.Attempts = append(s.Attempts, c.attempts...)
	st.attempts += len(c.attempts)
	if !opened {
		return false
	}
	sv := &c.served
	st.live, st.inner, st.pending, st.err = sv.liveAttempt, sv.stream, sv.firstRead, nil
	rs.ended, rs.splice, rs.marked, rs.after = false, true, false, rs.chunks
	rs.resumed++
	rs.attempt = len(s.Attempts) - 1
	s.Resumes++
	s.Deployment = sv.dep.ID()
	return true
}
