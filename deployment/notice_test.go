package deployment

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClaimCooldownNoticeOncePerDeadline(t *testing.T) {
	d, err := New(Config{ModelName: "g", Model: "gpt-4o"}, nil, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_700_000_000, 0)
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d.ClaimCooldownNotice(base.Add(5 * time.Second)) {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := claimed.Load(); got != 1 {
		t.Fatalf("16 concurrent claims of one deadline: %d succeeded, want 1", got)
	}
	if d.ClaimCooldownNotice(base.Add(4 * time.Second)) {
		t.Error("an earlier deadline was claimed after a later one")
	}
	if !d.ClaimCooldownNotice(base.Add(6 * time.Second)) {
		t.Error("a later deadline (a new incident or an extension) was not claimable")
	}
}
