package sharedstate

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// Values stored in Redis by the state scripts start with a time as 20
// zero-padded decimal digits of Unix nanoseconds, so that a Lua script can
// keep the newer of two values by comparing their first 20 bytes as
// strings, with no floating-point rounding.

const stampLen = 20

var errCodec = errors.New("sharedstate: malformed stored value")

func appendStamp(b []byte, t time.Time) []byte {
	n := t.UnixNano()
	if n < 0 || t.IsZero() {
		n = 0
	}
	var tmp [stampLen]byte
	s := strconv.AppendInt(tmp[:0], n, 10)
	for range stampLen - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

func parseStamp(s string) (time.Time, error) {
	if len(s) < stampLen {
		return time.Time{}, errCodec
	}
	n, err := strconv.ParseInt(s[:stampLen], 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, errCodec
	}
	return time.Unix(0, n), nil
}

// encodeSnapshot encodes s as "<stamp>|lr|rr|lt|rt|resr|rest|ra".
func encodeSnapshot(s ratelimit.Snapshot) string {
	b := make([]byte, 0, 96)
	b = appendStamp(b, s.ObservedAt)
	for _, v := range [...]int64{s.LimitRequests, s.RemainingRequests, s.LimitTokens, s.RemainingTokens,
		int64(s.ResetRequests), int64(s.ResetTokens), int64(s.RetryAfter)} {
		b = append(b, '|')
		b = strconv.AppendInt(b, v, 10)
	}
	return string(b)
}

func decodeSnapshot(v string) (ratelimit.Snapshot, error) {
	at, err := parseStamp(v)
	if err != nil {
		return ratelimit.Snapshot{}, err
	}
	rest := v[stampLen:]
	var f [7]int64
	for i := range f {
		if len(rest) == 0 || rest[0] != '|' {
			return ratelimit.Snapshot{}, errCodec
		}
		rest = rest[1:]
		end := strings.IndexByte(rest, '|')
		if end < 0 {
			end = len(rest)
		}
		n, err := strconv.ParseInt(rest[:end], 10, 64)
		if err != nil || n < ratelimit.Unknown {
			return ratelimit.Snapshot{}, errCodec
		}
		f[i], rest = n, rest[end:]
	}
	if rest != "" {
		return ratelimit.Snapshot{}, errCodec
	}
	return ratelimit.Snapshot{
		ObservedAt:    at,
		LimitRequests: f[0], RemainingRequests: f[1], LimitTokens: f[2], RemainingTokens: f[3],
		ResetRequests: time.Duration(f[4]), ResetTokens: time.Duration(f[5]), RetryAfter: time.Duration(f[6]),
	}, nil
}

// encodeCooldown encodes c as "<stamp of Until>|reason".
func encodeCooldown(c Cooldown) string {
	b := make([]byte, 0, stampLen+1+len(c.Reason))
	b = appendStamp(b, c.Until)
	b = append(b, '|')
	return string(append(b, c.Reason...))
}

func decodeCooldown(v string) (Cooldown, error) {
	at, err := parseStamp(v)
	if err != nil {
		return Cooldown{}, err
	}
	if len(v) == stampLen || v[stampLen] != '|' {
		return Cooldown{}, errCodec
	}
	return Cooldown{Until: at, Reason: v[stampLen+1:]}, nil
}
