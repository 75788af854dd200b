package provider

// One generic mechanism gives every typed view (ChatRequest, Message,
// ChatResponse, ...) a lossless JSON form: the modelled fields are decoded
// into the struct, and every other key of the object is kept, raw, in the
// struct's Extra map and written back on encode.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// extraInfo describes a struct type handled by marshalExtra and
// unmarshalExtra: its JSON-tagged exported fields and its Extra field.
type extraInfo struct {
	name   string // the Go type name, for error messages
	fields []extraField
	byName map[string]int // JSON key -> index in fields
	extra  int            // struct field index of Extra
}

type extraField struct {
	key       string
	prefix    []byte // `"key":`
	index     int    // struct field index
	omitEmpty bool
	isZero    bool // the type has an IsZero method, used for omitempty
	generic   bool // the type holds interface values: decoded with UseNumber
}

// extraInfos caches *extraInfo by reflect.Type. It is a cache of facts
// derived from types, not mutable state: every entry is the same whoever
// computes it.
var extraInfos sync.Map

var (
	rawMapType = reflect.TypeFor[map[string]json.RawMessage]()
	zeroerType = reflect.TypeFor[zeroer]()
)

// extraInfoOf returns the description of struct type t, which must have an
// exported field Extra of type map[string]json.RawMessage tagged `json:"-"`
// (a programming error otherwise, caught by the package's tests).
func extraInfoOf(t reflect.Type) *extraInfo {
	if v, ok := extraInfos.Load(t); ok {
		return v.(*extraInfo)
	}
	info := &extraInfo{name: t.Name(), byName: map[string]int{}, extra: -1}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			if sf.Name == "Extra" && sf.Type == rawMapType {
				info.extra = i
			}
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		if key == "" {
			key = sf.Name
		}
		prefix, _ := json.Marshal(key)
		f := extraField{
			key:       key,
			prefix:    append(prefix, ':'),
			index:     i,
			omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty"),
			isZero:    sf.Type.Implements(zeroerType),
			generic:   holdsInterface(sf.Type),
		}
		info.byName[key] = len(info.fields)
		info.fields = append(info.fields, f)
	}
	if info.extra < 0 {
		panic("provider: " + t.String() + " has no Extra map[string]json.RawMessage field")
	}
	v, _ := extraInfos.LoadOrStore(t, info)
	return v.(*extraInfo)
}

func holdsInterface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Pointer:
		return t.Elem().Kind() == reflect.Interface
	}
	return false
}

// zeroer is implemented by field types with their own notion of "empty"
// (MessageContent), consulted for omitempty fields.
type zeroer interface{ IsZero() bool }

// isEmpty reports whether an omitempty field is left out on encode:
// encoding/json's omitempty rule, or IsZero for types that have it.
func (f *extraField) isEmpty(v reflect.Value) bool {
	if f.isZero {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return v.Interface().(zeroer).IsZero()
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// marshalExtra encodes *v as a JSON object: its modelled fields in
// declaration order (omitempty fields left out when empty), then the keys of
// its Extra map in sorted order. An Extra key never overrides a modelled
// field: it is written only when the struct did not write that key itself.
// Extra values are written as they are, after a validity check.
func marshalExtra[T any](v *T) ([]byte, error) {
	rv := reflect.ValueOf(v).Elem()
	info := extraInfoOf(rv.Type())
	b := make([]byte, 0, 256)
	b = append(b, '{')
	var written []bool
	if extra := rv.Field(info.extra); extra.Len() > 0 {
		written = make([]bool, len(info.fields))
	}
	n := 0
	for i, f := range info.fields {
		fv := rv.Field(f.index)
		if f.omitEmpty && f.isEmpty(fv) {
			continue
		}
		enc, err := json.Marshal(fv.Interface())
		if err != nil {
			return nil, fmt.Errorf("provider: encoding %s.%s: %w", info.name, rv.Type().Field(f.index).Name, err)
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, f.prefix...)
		b = append(b, enc...)
		if written != nil {
			written[i] = true
		}
	}
	if written != nil {
		extra := rv.Field(info.extra).Interface().(map[string]json.RawMessage)
		keys := make([]string, 0, len(extra))
		for k := range extra {
			if i, ok := info.byName[k]; ok && written[i] {
				continue
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			raw := extra[k]
			if !json.Valid(raw) {
				return nil, fmt.Errorf("provider: encoding %s: Extra[%q] is not valid JSON", info.name, k)
			}
			kb, _ := json.Marshal(k)
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, kb...)
			b = append(b, ':')
			b = append(b, raw...)
		}
	}
	return append(b, '}'), nil
}

// unmarshalExtra decodes a JSON object into *v, which it first resets to
// the zero value. Keys are matched to the modelled fields exactly (not
// case-insensitively, unlike encoding/json), so an unknown key such as
// "Model" is kept in Extra rather than mistaken for "model". Every other key
// goes to Extra with its raw value, and so does a modelled field whose value
// would vanish on encode (null, false, 0, "", [] in an omitempty field), so
// that encoding gives back what was decoded. JSON null leaves *v unchanged,
// as encoding/json does for structs. Fields holding interface values
// (ToolChoice, Stop, Input, Metadata) are decoded with json.Number for
// numbers, and a list of strings becomes a []string.
func unmarshalExtra[T any](data []byte, v *T) error {
	rv := reflect.ValueOf(v).Elem()
	info := extraInfoOf(rv.Type())
	data = trimSpace(data)
	if !json.Valid(data) {
		err := json.Unmarshal(data, new(any))
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return fmt.Errorf("provider: decoding %s: %w", info.name, err)
	}
	switch data[0] {
	case 'n':
		return nil
	case '{':
	default:
		return fmt.Errorf("provider: decoding %s: expected a JSON object, got %s", info.name, jsonKind(data[0]))
	}
	var zero T
	*v = zero
	var extra map[string]json.RawMessage
	keep := func(key string, raw []byte) {
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[key] = bytes.Clone(raw)
	}
	err := eachMember(data, func(rawKey, raw []byte) error {
		var i int
		var known bool
		if bytes.IndexByte(rawKey, '\\') < 0 && utf8.Valid(rawKey) {
			i, known = info.byName[string(rawKey[1:len(rawKey)-1])]
			if !known {
				keep(string(rawKey[1:len(rawKey)-1]), raw)
				return nil
			}
		} else {
			var key string
			if err := json.Unmarshal(rawKey, &key); err != nil {
				return err
			}
			if i, known = info.byName[key]; !known {
				keep(key, raw)
				return nil
			}
		}
		f := &info.fields[i]
		fv := rv.Field(f.index)
		if err := decodeField(raw, fv, f.generic); err != nil {
			return fmt.Errorf("provider: decoding %s field %q: %w", info.name, f.key, err)
		}
		if f.omitEmpty && f.isEmpty(fv) {
			keep(f.key, raw)
		} else if extra != nil {
			delete(extra, f.key) // an earlier duplicate key
		}
		return nil
	})
	if err != nil {
		return err
	}
	if extra != nil {
		rv.Field(info.extra).Set(reflect.ValueOf(extra))
	}
	return nil
}

// extraError is a constant error of the member walk.
type extraError string

func (e extraError) Error() string { return string(e) }

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// eachMember calls fn with the raw key (quotes included) and raw value of
// each member of the JSON object data, in order. data must be valid JSON
// (the caller checks); the walk is still bounds-checked, so it cannot
// panic.
func eachMember(data []byte, fn func(key, value []byte) error) error {
	const errBad = extraError("malformed object")
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == '}' {
		return nil
	}
	for i < len(data) {
		k := skipString(data, i)
		if k < 0 {
			return errBad
		}
		key := data[i:k]
		i = skipSpace(data, k)
		if i >= len(data) || data[i] != ':' {
			return errBad
		}
		i = skipSpace(data, i+1)
		e := skipValue(data, i)
		if e < 0 {
			return errBad
		}
		if err := fn(key, data[i:e]); err != nil {
			return err
		}
		i = skipSpace(data, e)
		if i >= len(data) {
			return errBad
		}
		switch data[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(data, i+1)
		default:
			return errBad
		}
	}
	return errBad
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at data[i],
// or -1.
func skipString(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at data[i], or
// -1.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				e := skipString(data, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

func decodeField(raw json.RawMessage, fv reflect.Value, generic bool) error {
	if !generic {
		if decodeScalar(raw, fv) {
			return nil
		}
		return json.Unmarshal(raw, fv.Addr().Interface())
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(fv.Addr().Interface()); err != nil {
		return err
	}
	if fv.Kind() == reflect.Interface && !fv.IsNil() {
		if list, ok := fv.Interface().([]any); ok && len(list) > 0 {
			strs := make([]string, len(list))
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil
				}
				strs[i] = s
			}
			fv.Set(reflect.ValueOf(strs))
		}
	}
	return nil
}

// decodeScalar decodes the common simple cases (a plain string, an integer,
// a boolean, into a field of that kind) without a trip through
// encoding/json, reporting whether it did. Anything else, including
// strings with escapes and every error case, is left to encoding/json, so
// the results and errors are the same.
func decodeScalar(raw []byte, fv reflect.Value) bool {
	switch fv.Kind() {
	case reflect.String:
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
			return false
		}
		s := raw[1 : len(raw)-1]
		for _, c := range s {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
		}
		if !utf8.Valid(s) {
			return false
		}
		fv.SetString(string(s))
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if len(raw) == 0 || len(raw) > 18 {
			return false
		}
		for i, c := range raw {
			if (c < '0' || c > '9') && (i > 0 || c != '-') {
				return false
			}
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || fv.OverflowInt(n) || (len(raw) > 1 && (raw[0] == '0' || raw[0] == '-' && raw[1] == '0')) {
			return false
		}
		fv.SetInt(n)
		return true
	case reflect.Bool:
		switch string(raw) {
		case "true":
			fv.SetBool(true)
			return true
		case "false":
			fv.SetBool(false)
			return true
		}
	}
	return false
}

// toRequest builds the Request for a typed JSON request.
func toRequest(ep Endpoint, typeName, model string, stream bool, body any) (*Request, error) {
	if model == "" {
		return nil, fmt.Errorf("provider: %s.Model is empty", typeName)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return &Request{Endpoint: ep, Model: model, Body: b, Stream: stream}, nil
}
