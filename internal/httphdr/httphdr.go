// Package httphdr checks header names and values against HTTP's grammar,
// so that a header net/http would refuse to send is reported where it was
// configured (a deployment's extra headers, a call's headers) instead of
// failing every attempt as a connection error.
package httphdr

import (
	"fmt"
	"net/http"
	"sort"

	"golang.org/x/net/http/httpguts"
)

// Error reports one header that HTTP forbids.
type Error struct {
	// Name is the header's name as given.
	Name string
	// Value is set when the name is valid but a value is not.
	Value string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Check returns an *Error for the first (by sorted name) header of h whose
// name is not an RFC 9110 token or whose value holds a control character
// (CR, LF, NUL, ...), nil when every header can be sent.
func Check(h http.Header) error {
	if len(h) == 0 {
		return nil
	}
	var bad []string
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			bad = append(bad, k)
			continue
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				bad = append(bad, k)
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	k := bad[0]
	if !httpguts.ValidHeaderFieldName(k) {
		return &Error{Name: k, Msg: fmt.Sprintf("header name %q is not a valid HTTP header name: %s", k, nameProblem(k))}
	}
	for _, v := range h[k] {
		if !httpguts.ValidHeaderFieldValue(v) {
			return &Error{Name: k, Value: v, Msg: fmt.Sprintf("header %q has a value HTTP forbids: %s", k, valueProblem(v))}
		}
	}
	return nil // unreachable: k was found bad above
}

func nameProblem(k string) string {
	if k == "" {
		return "it is empty"
	}
	for i := 0; i < len(k); i++ {
		if !httpguts.IsTokenRune(rune(k[i])) {
			return fmt.Sprintf("%q at byte %d is not allowed (a name is letters, digits and !#$%%&'*+-.^_`|~, with no spaces)", k[i:i+1], i)
		}
	}
	return "it is not a token"
}

func valueProblem(v string) string {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return fmt.Sprintf("control character %q at byte %d (CR, LF and NUL cannot be sent)", v[i:i+1], i)
		}
	}
	return "it holds a character HTTP does not allow"
}
