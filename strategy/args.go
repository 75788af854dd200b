package strategy

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ArgError reports a routing strategy argument that is unknown or has the
// wrong type or value.
type ArgError struct {
	// Strategy is the strategy's name.
	Strategy string
	// Arg is the argument's name.
	Arg string
	// Value is the value given.
	Value any
	// Reason says what is wrong.
	Reason string
}

// Error names the strategy, the argument and what is wrong with it.
func (e *ArgError) Error() string {
	return fmt.Sprintf("strategy: %s: argument %q = %v: %s", e.Strategy, e.Arg, e.Value, e.Reason)
}

// args reads a strategy's arguments, recording the first error.
type args struct {
	strategy string
	m        map[string]any
	err      error
}

// check fails on any key that is not in known. "seed" is always accepted.
func (a *args) check(known ...string) {
	keys := make([]string, 0, len(a.m))
	for k := range a.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != "seed" && !slices.Contains(known, k) {
			valid := append([]string{"seed"}, known...)
			a.fail(k, a.m[k], "unknown argument (valid: "+strings.Join(valid, ", ")+")")
			return
		}
	}
}

func (a *args) fail(name string, v any, reason string) {
	if a.err == nil {
		a.err = &ArgError{Strategy: a.strategy, Arg: name, Value: v, Reason: reason}
	}
}

// number reads a finite number (any integer or float type).
func (a *args) number(name string, def float64) float64 {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float32:
		f = float64(x)
	case float64:
		f = x
	default:
		a.fail(name, v, fmt.Sprintf("want a number, got %T", v))
		return def
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		a.fail(name, v, "want a finite number")
		return def
	}
	return f
}

// nonNegative reads a number >= 0.
func (a *args) nonNegative(name string, def float64) float64 {
	f := a.number(name, def)
	if f < 0 {
		a.fail(name, a.m[name], "must be >= 0")
		return def
	}
	return f
}

// positiveInt reads an integer > 0.
func (a *args) positiveInt(name string, def int) int {
	f := a.number(name, float64(def))
	if f <= 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		a.fail(name, a.m[name], "must be a whole number > 0")
		return def
	}
	return int(f)
}

// duration reads a duration: a number of seconds (as LiteLLM writes it), a
// time.Duration, or a string for time.ParseDuration ("90s", "1m").
func (a *args) duration(name string, def time.Duration) time.Duration {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case string:
		var err error
		if d, err = time.ParseDuration(x); err != nil {
			a.fail(name, v, "want seconds or a duration such as \"60s\"")
			return def
		}
	default:
		f := a.number(name, 0)
		if a.err != nil {
			return def
		}
		if f > float64(math.MaxInt64)/float64(time.Second) {
			a.fail(name, v, "too large")
			return def
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		a.fail(name, v, "must be > 0")
		return def
	}
	return d
}

// source reads the optional "seed" argument: an integer makes the
// strategy's random choices reproducible.
func (a *args) source() *source {
	v, ok := a.m["seed"]
	if !ok || v == nil {
		return newSource(0, false)
	}
	f := a.number("seed", 0)
	if f != math.Trunc(f) {
		a.fail("seed", v, "must be a whole number")
	}
	var seed uint64
	switch x := v.(type) {
	case uint64:
		seed = x
	case int64:
		seed = uint64(x)
	default:
		seed = uint64(int64(f))
	}
	return newSource(seed, true)
}
