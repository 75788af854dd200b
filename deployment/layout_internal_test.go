package deployment

import (
	"testing"
	"unsafe"
)

// TestLayout pins the cache-line layout the pick path relies on (see the
// comment on Deployment): a change of a field that moves them fails here
// rather than silently slowing every pick.
func TestLayout(t *testing.T) {
	var d Deployment
	cfg := unsafe.Offsetof(d.cfg)
	line := func(off uintptr) uintptr { return off / 64 }
	var u upstream
	if s := unsafe.Sizeof(u); s != 192 {
		t.Errorf("sizeof(upstream) = %d, want 192 (3 cache lines)", s)
	}
	if end := unsafe.Offsetof(u.tok) + unsafe.Sizeof(u.tok); end > 128 {
		t.Errorf("upstream's obs to tok end at byte %d, want within the first two lines", end)
	}
	size := unsafe.Sizeof(d)
	if size <= 512 || size > 576 {
		t.Errorf("sizeof(Deployment) = %d, want in (512, 576] so that its size class is 576 = 9 lines", size)
	}
	for _, f := range []struct {
		name      string
		off, size uintptr
		line      uintptr
	}{
		{"inFlight", unsafe.Offsetof(d.inFlight), 8, 0},
		{"latency", unsafe.Offsetof(d.latency), 16, 0},
		{"ttft", unsafe.Offsetof(d.ttft), 16, 0},
		{"cooldownUntil", unsafe.Offsetof(d.cooldownUntil), 8, 0},
		{"cfg.Weight", cfg + unsafe.Offsetof(d.cfg.Weight), 8, 3},
		{"cfg.RPM", cfg + unsafe.Offsetof(d.cfg.RPM), 8, 3},
		{"cfg.TPM", cfg + unsafe.Offsetof(d.cfg.TPM), 8, 3},
		{"cfg.MaxParallelRequests", cfg + unsafe.Offsetof(d.cfg.MaxParallelRequests), 8, 3},
		{"cfg.Info", cfg + unsafe.Offsetof(d.cfg.Info), unsafe.Sizeof(d.cfg.Info), 3},
		{"exhaustedUntil", unsafe.Offsetof(d.exhaustedUntil), 8, 5},
		{"state", unsafe.Offsetof(d.state), 4, 5},
		{"probe", unsafe.Offsetof(d.probe), 1, 5},
		{"up", unsafe.Offsetof(d.up), 8, 5},
		{"sinceReq", unsafe.Offsetof(d.sinceReq), 8, 5},
		{"sinceTok", unsafe.Offsetof(d.sinceTok), 8, 5},
		{"reqMirror", unsafe.Offsetof(d.reqMirror), 8, 5},
		{"tokMirror", unsafe.Offsetof(d.tokMirror), 8, 5},
	} {
		if line(f.off) != f.line || line(f.off+f.size-1) != f.line {
			t.Errorf("%s at bytes %d-%d, want all in cache line %d", f.name, f.off, f.off+f.size-1, f.line)
		}
	}
}
