package sharedstate

import "time"

// defaultWindow is the length of a usage window when none is given: rpm and
// tpm limits are per minute.
const defaultWindow = time.Minute

// weightScale is the fixed-point scale of the previous window's weight. The
// weight is passed to Redis as an integer so that the Go and Lua
// implementations compute exactly the same estimate.
const weightScale = 10000

// Window says when an operation happens and how long a usage window is.
// Windows are aligned on the Unix epoch, so every replica agrees on window
// boundaries without talking to the others (clock skew between replicas
// shifts their view by the skew).
type Window struct {
	// At is the time of the operation, from the caller's (injectable)
	// clock. A Store takes it as the current time.
	At time.Time
	// Length is the window length; zero or negative means one minute.
	Length time.Duration
}

func (w Window) length() int64 {
	if w.Length <= 0 {
		return int64(defaultWindow)
	}
	return int64(w.Length)
}

// Index returns the number of the fixed window containing At, counted from
// the Unix epoch. Consecutive windows have consecutive indexes.
func (w Window) Index() int64 {
	n, l := w.At.UnixNano(), w.length()
	idx := n / l
	if n%l < 0 {
		idx--
	}
	return idx
}

// prevWeight returns how much of the previous fixed window is still inside
// the trailing window ending at At, in units of 1/weightScale.
func (w Window) prevWeight() int64 {
	l := w.length()
	elapsed := w.At.UnixNano() - w.Index()*l
	return weightScale - elapsed*weightScale/l
}

// ttl is how long a window's counters must live: through the window itself
// and the next one (where it is the previous window), plus slack for clock
// skew between replicas.
func (w Window) ttl() time.Duration {
	return 2*time.Duration(w.length()) + 10*time.Second
}

// estimate combines the current and previous windows' counts into the
// sliding-window estimate.
func estimate(cur, prev, weight int64) int64 {
	if prev < 0 {
		prev = 0
	}
	if cur < 0 {
		cur = 0
	}
	return cur + prev*weight/weightScale
}
