package handler

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
)

// keySet holds the accepted API keys as SHA-256 digests. Comparing
// digests of equal length in constant time keeps both a key's content and
// its length from leaking through response timing. It is filled by
// options and read-only afterwards.
type keySet struct {
	list []([sha256.Size]byte)
	// byDigest indexes list when it is large. A map lookup on a digest
	// leaks at most which digests are near the presented one, which says
	// nothing usable about any key.
	byDigest map[[sha256.Size]byte]struct{}
}

// linearKeys is the largest key set compared one by one.
const linearKeys = 32

func (k *keySet) add(key string) {
	d := sha256.Sum256([]byte(key))
	for _, have := range k.list {
		if have == d {
			return
		}
	}
	k.list = append(k.list, d)
	if len(k.list) > linearKeys {
		if k.byDigest == nil {
			k.byDigest = make(map[[sha256.Size]byte]struct{}, len(k.list))
			for _, have := range k.list {
				k.byDigest[have] = struct{}{}
			}
		}
		k.byDigest[d] = struct{}{}
	}
}

// enabled reports whether keys are required.
func (k *keySet) enabled() bool { return len(k.list) > 0 }

// valid reports whether key is one of the set.
func (k *keySet) valid(key string) bool {
	if key == "" {
		return false
	}
	d := sha256.Sum256([]byte(key))
	if k.byDigest != nil {
		_, ok := k.byDigest[d]
		return ok
	}
	ok := 0
	for i := range k.list {
		ok |= subtle.ConstantTimeCompare(k.list[i][:], d[:])
	}
	return ok == 1
}

// requestKey returns the API key a request presents: the bearer token of
// Authorization, else the api-key header (Azure OpenAI's).
func requestKey(r *http.Request) string {
	if v := r.Header.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("Api-Key"))
}

// authorizeOps reports whether r may read an operations endpoint
// (/metrics, /health/readiness), answering 401 otherwise: always when they
// are not protected, else with an ops key when any is configured, else
// with an API key.
func (h *Handler) authorizeOps(w http.ResponseWriter, r *http.Request) bool {
	if !h.opsProtected {
		return true
	}
	keys := &h.opsKeys
	if !keys.enabled() {
		keys = &h.auth
	}
	key := requestKey(r)
	if keys.valid(key) {
		return true
	}
	msg := "Incorrect key for " + r.URL.Path + ". Send a valid key as \"Authorization: Bearer <key>\"."
	switch {
	case !keys.enabled():
		msg = r.URL.Path + " is protected and no key is configured to open it."
	case key == "":
		msg = r.URL.Path + " is protected: send a key as \"Authorization: Bearer <key>\"."
	}
	h.refuse(w, provider.EndpointUnknown, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error",
		code: "invalid_api_key", message: msg, class: "unauthorized"})
	return false
}
