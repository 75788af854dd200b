package deployment_test

import (
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
)

func benchDep(b *testing.B, cfg deployment.Config) *deployment.Deployment {
	d := newDep(b, cfg, deployment.Settings{})
	call(b, d, t0, deployment.Outcome{Latency: time.Second, Header: rlHeader("10000", "5000", "60s")})
	return d
}

func BenchmarkAvailable(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  deployment.Config
	}{
		{"plain", deployment.Config{}},
		{"limits", deployment.Config{RPM: 1000, TPM: 100000, MaxParallelRequests: 10, Info: deployment.ModelInfo{MaxInputTokens: 128000}}},
	} {
		d := benchDep(b, bc.cfg)
		now := t0.Add(time.Second)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Available(now, 500)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					d.Available(now, 500)
				}
			})
		})
	}
}

func BenchmarkHeadroom(b *testing.B) {
	d := benchDep(b, deployment.Config{RPM: 1000, TPM: 100000})
	now := t0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		d.Headroom(now)
	}
}

// BenchmarkBeginEnd is one call's bookkeeping: Begin and End with a
// success, without and with response headers (which are parsed and stored:
// one allocation for the snapshot).
func BenchmarkBeginEnd(b *testing.B) {
	hdr := rlHeader("10000", "5000", "60s")
	for _, bc := range []struct {
		name string
		cfg  deployment.Config
		o    deployment.Outcome
	}{
		{"plain", deployment.Config{}, deployment.Outcome{Latency: time.Second}},
		{"headers", deployment.Config{}, deployment.Outcome{Latency: time.Second, Header: hdr}},
		{"limits+headers", deployment.Config{RPM: 1 << 30, TPM: 1 << 30, MaxParallelRequests: 1 << 20}, deployment.Outcome{Latency: time.Second, Header: hdr}},
	} {
		d := newDep(b, bc.cfg, deployment.Settings{})
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, err := d.Begin(t0, 100)
				if err != nil {
					b.Fatal(err)
				}
				a.End(t0, bc.o)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					a, err := d.Begin(t0, 100)
					if err != nil {
						b.Error(err)
						return
					}
					a.End(t0, bc.o)
				}
			})
		})
	}
}
