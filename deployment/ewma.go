package deployment

import (
	"math"
	"sync/atomic"
	"time"
)

// ewma is a lock-free exponentially weighted moving average of durations.
// It stores the average in whole nanoseconds, 0 meaning "never measured",
// and the time of the latest sample.
//
// The weight of the old average is (1-alpha), halved again for every
// halfLife that passed since the previous sample. Under steady traffic it is
// a plain EWMA; after a quiet spell a new sample mostly replaces the old
// average, so one slow outlier followed by silence does not mark a
// deployment as slow for ever.
type ewma struct {
	avg atomic.Int64 // nanoseconds; 0 = never measured
	at  atomic.Int64 // unix nanoseconds of the latest sample; 0 = never
}

// load returns the average, 0 when never measured.
func (e *ewma) load() time.Duration {
	return time.Duration(e.avg.Load())
}

// add folds sample, taken at now, into the average.
func (e *ewma) add(now time.Time, sample time.Duration, alpha float64, halfLife time.Duration) {
	if sample <= 0 {
		sample = 1 // keep 0 for "never measured"
	}
	nowN := now.UnixNano()
	s := float64(sample)
	for {
		old := e.avg.Load()
		v := float64(old)
		nv := s
		if old != 0 {
			keep := 1 - alpha
			if dt := nowN - e.at.Load(); dt > 0 && halfLife > 0 {
				keep *= math.Exp2(-float64(dt) / float64(halfLife))
			}
			nv = keep*v + (1-keep)*s
		}
		n := int64(1) // keep 0 for "never measured"
		if nv >= 1 && nv < math.MaxInt64/2 {
			n = int64(nv + 0.5)
		}
		if e.avg.CompareAndSwap(old, n) {
			break
		}
	}
	for {
		at := e.at.Load()
		if nowN <= at || e.at.CompareAndSwap(at, nowN) {
			return
		}
	}
}
