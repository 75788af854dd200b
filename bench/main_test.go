package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain prints the machine's load average before and after the run, so
// that ./bench/cmd/report can say how busy the machine was while the
// numbers were taken.
func TestMain(m *testing.M) {
	fmt.Println("loadavg-start:", loadavg())
	code := m.Run()
	fmt.Println("loadavg-end:", loadavg())
	os.Exit(code)
}

// loadavg returns the 1, 5 and 15 minute load averages, "unknown" where
// /proc/loadavg does not exist.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
