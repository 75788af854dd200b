package deployment

import "time"

// ClaimCooldownNotice reports whether the caller is the first to claim the
// cooldown that ends at until, so that a cooldown started by several
// concurrent failures is announced (logged, reported) once per incident
// instead of once per failed call. It returns false for a deadline at or
// before one already claimed. Safe for concurrent use.
func (d *Deployment) ClaimCooldownNotice(until time.Time) bool {
	u := until.UnixNano()
	for {
		old := d.noticed.Load()
		if u <= old {
			return false
		}
		if d.noticed.CompareAndSwap(old, u) {
			return true
		}
	}
}
