package respcache

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Control is a request's per-call cache control, read from its "cache"
// object as LiteLLM defines it:
//
//	"cache": {"no-cache": true}       do not answer from the cache (the answer is still stored)
//	"cache": {"no-store": true}       do not store the answer
//	"cache": {"ttl": 600}             store the answer for 600 s instead of the cache's default
//	"cache": {"s-maxage": 60}         accept only a cached answer at most 60 s old
//	"cache": {"namespace": "team-a"}  a separate key space
//	"cache": {"use-cache": true}      use the cache when it is opt-in (LiteLLM's mode "default_off")
//
// The zero Control reads and writes with the cache's defaults. The "cache"
// object is removed from the body sent upstream (OpenAI rejects unknown
// fields).
type Control struct {
	NoCache   bool
	NoStore   bool
	TTL       time.Duration
	MaxAge    time.Duration
	Namespace string
	// UseCache asks for the cache when a router caches only the calls
	// that opt in.
	UseCache bool
}

// ControlError says the "cache" object of a request is malformed.
type ControlError struct {
	Field string
	Err   error
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("respcache: cache control %q: %v", e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *ControlError) Unwrap() error { return e.Err }

// Fresh reports whether an entry stored at storedAt may answer this
// request at now.
func (c Control) Fresh(storedAt, now time.Time) bool {
	return !c.NoCache && (c.MaxAge <= 0 || now.Sub(storedAt) <= c.MaxAge)
}

// parseControl reads a decoded "cache" value (null means none).
func parseControl(v any) (Control, error) {
	var c Control
	if v == nil {
		return c, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return c, &ControlError{Field: controlField, Err: errors.New("not an object")}
	}
	for k, v := range m {
		var err error
		switch k {
		case "no-cache":
			c.NoCache, err = controlBool(v)
		case "no-store":
			c.NoStore, err = controlBool(v)
		case "use-cache":
			c.UseCache, err = controlBool(v)
		case "ttl":
			c.TTL, err = controlSeconds(v)
		case "s-maxage":
			c.MaxAge, err = controlSeconds(v)
		case "namespace":
			s, ok := v.(string)
			if !ok && v != nil {
				err = errors.New("not a string")
			}
			c.Namespace = s
		default:
			continue // unknown directives are ignored, as LiteLLM does
		}
		if err != nil {
			return Control{}, &ControlError{Field: k, Err: err}
		}
	}
	return c, nil
}

func controlBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// controlSeconds reads a number of seconds (a JSON number or a numeric
// string), at most a year.
func controlSeconds(v any) (time.Duration, error) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	case nil:
		return 0, nil
	default:
		return 0, errors.New("not a number of seconds")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 365*24*3600 {
		return 0, errors.New("not a number of seconds between 0 and a year")
	}
	return time.Duration(f * float64(time.Second)), nil
}
