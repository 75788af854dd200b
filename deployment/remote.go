package deployment

import "github.com/switchyard-go/switchyard/ratelimit"

// ObserveSnapshot records a rate-limit snapshot observed elsewhere: by
// another router that shares this deployment's upstream key (through
// package cache), or by the caller's own reading of a response. It is kept
// only when it was observed strictly later than the latest snapshot, so
// that echoes of a snapshot this deployment already holds change nothing;
// the counts of traffic since then restart from it, as they do when End
// reads headers. A snapshot that says the key is exhausted keeps the
// deployment out until its reset, as End does. A snapshot without any
// count (a bare retry hint) only does the latter.
//
// It reports whether the snapshot was stored. It takes no lock and is safe
// for concurrent use with everything else.
func (d *Deployment) ObserveSnapshot(s ratelimit.Snapshot) bool {
	if !s.Known() {
		return false
	}
	if until, ok := s.ExhaustedUntil(); ok {
		storeMax(&d.exhaustedUntil, until.UnixNano())
	}
	if s.LimitRequests < 0 && s.RemainingRequests < 0 && s.LimitTokens < 0 && s.RemainingTokens < 0 {
		return false
	}
	if cur := d.up.Load(); cur != nil && cur.obs >= s.ObservedAt.UnixNano() {
		return false
	}
	return d.storeSnapshot(s) != nil
}
