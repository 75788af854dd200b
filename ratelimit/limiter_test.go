package ratelimit

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLimiterUnlimited(t *testing.T) {
	for name, l := range map[string]*Limiter{"zero": {}, "nil": nil, "NewLimiter(0, 0)": NewLimiter(0, 0)} {
		for i := range 1000 {
			r, ok := l.Reserve(t0, 1_000_000)
			if !ok {
				t.Fatalf("%s: reservation %d refused", name, i)
			}
			r.Settle(t0, 5)
		}
		if rf, tf := l.Headroom(t0); rf != 1 || tf != 1 {
			t.Errorf("%s: Headroom = %v, %v; want 1, 1", name, rf, tf)
		}
	}
}

func TestLimiterRequests(t *testing.T) {
	l := NewLimiter(60, 0) // 1 request per second, burst 60
	for i := range 60 {
		if _, ok := l.Reserve(t0, 10); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	if _, ok := l.Reserve(t0, 0); ok {
		t.Fatal("61st request at the same instant allowed")
	}
	if _, ok := l.Reserve(t0.Add(999*time.Millisecond), 0); ok {
		t.Fatal("allowed before a full request refilled")
	}
	if _, ok := l.Reserve(t0.Add(time.Second), 0); !ok {
		t.Fatal("refused after one request's refill time")
	}
	if rf, tf := l.Headroom(t0.Add(time.Second)); rf != 0 || tf != 1 {
		t.Errorf("Headroom = %v, %v; want 0, 1", rf, tf)
	}
	if rf, _ := l.Headroom(t0.Add(31 * time.Second)); !approx(rf, 0.5) {
		t.Errorf("request headroom after 30s of refill = %v, want 0.5", rf)
	}
}

func TestLimiterTokensAllOrNothing(t *testing.T) {
	l := NewLimiter(10, 6000) // 100 tokens per second
	if _, ok := l.Reserve(t0, 5000); !ok {
		t.Fatal("first reservation refused")
	}
	// 1000 tokens left: 1500 does not fit, and must take no request either.
	if _, ok := l.Reserve(t0, 1500); ok {
		t.Fatal("reservation over the token budget allowed")
	}
	rf, tf := l.Headroom(t0)
	if !approx(rf, 0.9) || !approx(tf, 1000.0/6000) {
		t.Errorf("Headroom after a refused reservation = %v, %v; want 0.9, %v", rf, tf, 1000.0/6000)
	}
	if _, ok := l.Reserve(t0, 1000); !ok {
		t.Fatal("reservation of exactly the remaining tokens refused")
	}
	if _, ok := l.Reserve(t0.Add(5*time.Second), 500); !ok {
		t.Fatal("refused after refill of 500 tokens")
	}
	if _, ok := l.Reserve(t0, 6001); ok {
		t.Fatal("estimate larger than the whole tpm allowed")
	}
	if _, ok := NewLimiter(0, 6000).Reserve(t0, 6001); ok {
		t.Fatal("estimate larger than the whole tpm allowed on a fresh limiter")
	}
}

func TestReservationSettle(t *testing.T) {
	tests := []struct {
		name     string
		estimate int
		actual   int
		wantTok  float64 // tokens left after settling at t0
	}{
		{"exact", 1000, 1000, 5000},
		{"over-estimate is given back", 1000, 200, 5800},
		{"negative actual counts as 0", 1000, -5, 6000},
		{"under-estimate is taken", 1000, 2500, 3500},
		{"under-estimate can go into debt", 1000, 6500, -500},
		{"extra tokens capped at one minute's worth", 1000, 100000, -1000},
	}
	for _, tt := range tests {
		l := NewLimiter(100, 6000)
		r, ok := l.Reserve(t0, tt.estimate)
		if !ok {
			t.Fatalf("%s: refused", tt.name)
		}
		r.Settle(t0, tt.actual)
		r.Settle(t0, 1_000_000) // second call is a no-op
		r.Cancel(t0)            // and so is a cancel after settling
		if got := l.tok.TokensAt(t0); !approx(got, tt.wantTok) {
			t.Errorf("%s: tokens left = %v, want %v", tt.name, got, tt.wantTok)
		}
		if got := l.req.TokensAt(t0); !approx(got, 99) {
			t.Errorf("%s: requests left = %v, want 99 (settling keeps the request spent)", tt.name, got)
		}
		_, tf := l.Headroom(t0)
		if want := max(tt.wantTok, 0) / 6000; !approx(tf, want) {
			t.Errorf("%s: token headroom = %v, want %v", tt.name, tf, want)
		}
	}
}

func TestReservationDebtDelaysLaterCalls(t *testing.T) {
	l := NewLimiter(0, 600) // 10 tokens per second
	r, _ := l.Reserve(t0, 100)
	r.Settle(t0, 700) // 600 more than estimated: bucket at -100
	if _, ok := l.Reserve(t0.Add(10*time.Second), 1); ok {
		t.Fatal("allowed while still in debt")
	}
	if _, ok := l.Reserve(t0.Add(11*time.Second), 10); !ok {
		t.Fatal("refused after the debt was repaid")
	}
}

func TestReservationCancel(t *testing.T) {
	l := NewLimiter(2, 600)
	r1, _ := l.Reserve(t0, 400)
	r2, _ := l.Reserve(t0, 100)
	if _, ok := l.Reserve(t0, 1); ok {
		t.Fatal("third request allowed with rpm 2")
	}
	r1.Cancel(t0)
	r1.Cancel(t0) // idempotent
	r2.Settle(t0, 100)
	if got := l.req.TokensAt(t0); !approx(got, 1) {
		t.Errorf("requests after cancel = %v, want 1", got)
	}
	if got := l.tok.TokensAt(t0); !approx(got, 500) {
		t.Errorf("tokens after cancel = %v, want 500", got)
	}
	// Giving back never fills a bucket past its burst.
	r3, _ := l.Reserve(t0, 10)
	r3.Cancel(t0.Add(time.Hour))
	if rf, tf := l.Headroom(t0.Add(time.Hour)); rf != 1 || tf != 1 {
		t.Errorf("Headroom after cancel on a full bucket = %v, %v; want 1, 1", rf, tf)
	}
	if _, ok := l.Reserve(t0.Add(time.Hour), 601); ok {
		t.Error("bucket overfilled by a cancel")
	}
	var zero Reservation
	zero.Cancel(t0)
	zero.Settle(t0, 10)
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(1000, 50000)
	var granted, tokens atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				est := 10 + (g*7+i)%90
				if r, ok := l.Reserve(t0, est); ok {
					granted.Add(1)
					tokens.Add(int64(est))
					if i%3 == 0 {
						r.Settle(t0, est) // no change
					}
				}
				l.Headroom(t0)
			}
		})
	}
	wg.Wait()
	if g := granted.Load(); g > 1000 {
		t.Errorf("granted %d requests with rpm 1000", g)
	}
	if tk := tokens.Load(); tk > 50000 {
		t.Errorf("granted %d tokens with tpm 50000", tk)
	}
	if granted.Load() < 500 {
		t.Errorf("granted only %d: limiter too strict", granted.Load())
	}
}

func TestLimiterReserveAllocs(t *testing.T) {
	l := NewLimiter(1<<30, 1<<30)
	n := testing.AllocsPerRun(100, func() {
		r, ok := l.Reserve(t0, 100)
		if !ok {
			t.Fatal("refused")
		}
		r.Settle(t0, 90)
		l.Headroom(t0)
	})
	if n != 0 {
		t.Errorf("Reserve+Settle+Headroom allocate %v times", n)
	}
}

func TestLimits(t *testing.T) {
	if rpm, tpm := NewLimiter(10, -1).Limits(); rpm != 10 || tpm != 0 {
		t.Errorf("Limits = %d, %d", rpm, tpm)
	}
	var l *Limiter
	if rpm, tpm := l.Limits(); rpm != 0 || tpm != 0 {
		t.Errorf("nil Limits = %d, %d", rpm, tpm)
	}
}

func BenchmarkLimiterReserve(b *testing.B) {
	l := NewLimiter(1<<30, 1<<30)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		r, ok := l.Reserve(now, 100)
		if !ok {
			b.Fatal("refused")
		}
		r.Settle(now, 120)
		now = now.Add(time.Millisecond)
	}
}

func BenchmarkLimiterReserveParallel(b *testing.B) {
	l := NewLimiter(1<<30, 1<<30)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, ok := l.Reserve(t0, 100); ok {
				r.Settle(t0, 100)
			}
		}
	})
}
