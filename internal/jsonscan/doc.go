// Package jsonscan walks JSON documents without decoding them, so that the
// library can read or replace a few top-level fields of a large request or
// response body and keep every other byte as it is.
//
// [Members] iterates over the members of an object, giving each key and
// the exact bytes of its value; [Elements] does the same for the elements
// of an array. Both check the grammar of everything they pass over, so a
// body that iterates to its end without an error is one well-formed JSON
// value. [Valid] checks a whole document, [Find] returns one member's value
// and [Unquote] decodes a string value.
//
// Two modes trade strictness for speed. [Strict] checks strings as
// encoding/json does (control characters and escapes; invalid UTF-8 passes,
// as encoding/json accepts it), eight bytes at a time; the HTTP handler
// uses it to reject malformed bodies with encoding/json's messages. [Fast]
// finds the end of a string by its closing quote alone, with
// bytes.IndexByte, leaving the inside to whoever decodes it; the OpenAI
// client uses it on bodies the handler (or the upstream) validates.
//
// Errors are [*SyntaxError] values naming the offset, worded as
// encoding/json words them. Nothing here allocates except to report an
// error or to unescape a key or string that holds escapes.
package jsonscan
