package bench

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// sim is a cooperative discrete-event scheduler with a simulated clock.
//
// Request goroutines run one at a time. A goroutine runs until it parks on
// the simulated clock (sleepUntil: a simulated upstream response, or a
// router wait through Sleep) or ends; only then does the driver move the
// clock to the next event (the earliest parked wake-up, or the next
// arrival) and let exactly one goroutine run again. Because no two request
// goroutines ever run at once and ties are broken by arrival order, a
// simulation gives the same result on every run, whatever the machine's
// speed, while the router still sees real concurrency: calls in flight,
// usage changing between a pick and the answer, waits.
//
// Real time spent inside a running goroutine (an HTTP round trip to the
// fake upstream, a real timeout) does not move the simulated clock.
type sim struct {
	mu      sync.Mutex
	idle    *sync.Cond // signalled when running drops to 0
	now     time.Time
	running int // goroutines started or woken and not parked or ended
	q       wakeQueue
	seq     uint64
}

// simStart is the simulated time every simulation starts at.
var simStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newSim() *sim {
	s := &sim{now: simStart}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// Now returns the simulated time: the router's and the fake upstream's
// clock.
func (s *sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// sleepUntil parks the calling goroutine (which must be one the driver
// started) until the simulated clock reaches t.
func (s *sim) sleepUntil(t time.Time) {
	ch := make(chan struct{})
	s.mu.Lock()
	if t.Before(s.now) {
		t = s.now
	}
	s.seq++
	heap.Push(&s.q, wake{at: t, seq: s.seq, ch: ch})
	s.running--
	if s.running == 0 {
		s.idle.Signal()
	}
	s.mu.Unlock()
	<-ch
}

// Sleep is the router's wait (router.Clock.Sleep) in simulated time.
func (s *sim) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.sleepUntil(s.Now().Add(d))
	return nil
}

// run starts arrive(i) on a goroutine of its own at simulated time
// simStart + i·step, for i in [0, n), and returns when every goroutine has
// ended. arrive runs while every other goroutine is parked, so it may also
// change the scenario (install a fault, reset counters) without races.
func (s *sim) run(n int, step time.Duration, arrive func(i int)) {
	s.runAt(n, func(i int) time.Duration { return time.Duration(i) * step }, arrive)
}

// runAt is run with request i arriving at simStart + at(i); at must not
// decrease.
func (s *sim) runAt(n int, at func(i int) time.Duration, arrive func(i int)) {
	next := 0
	for {
		s.mu.Lock()
		for s.running > 0 {
			s.idle.Wait()
		}
		var arrival time.Time
		if next < n {
			arrival = simStart.Add(at(next))
		}
		if len(s.q) > 0 && (next >= n || !s.q[0].at.After(arrival)) {
			w := heap.Pop(&s.q).(wake)
			if w.at.After(s.now) {
				s.now = w.at
			}
			s.running++
			s.mu.Unlock()
			close(w.ch)
			continue
		}
		if next >= n {
			s.mu.Unlock()
			return
		}
		if arrival.After(s.now) {
			s.now = arrival
		}
		s.running++
		i := next
		next++
		s.mu.Unlock()
		go func() {
			defer s.done()
			arrive(i)
		}()
	}
}

func (s *sim) done() {
	s.mu.Lock()
	s.running--
	if s.running == 0 {
		s.idle.Signal()
	}
	s.mu.Unlock()
}

// wake is a parked goroutine's wake-up.
type wake struct {
	at  time.Time
	seq uint64
	ch  chan struct{}
}

// wakeQueue is a min-heap of wake-ups by time, then by when they parked.
type wakeQueue []wake

func (q wakeQueue) Len() int { return len(q) }
func (q wakeQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q wakeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *wakeQueue) Push(x any)   { *q = append(*q, x.(wake)) }
func (q *wakeQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	*q = old[:len(old)-1]
	return w
}
