package sharedstate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
)

// A Syncer over a MemoryStore: what a router does around each upstream
// call. With Redis, pass a sharedstate.NewRedisStore(sharedstate.RedisConfig{
// URL: ...}) instead, one per replica, and every replica shares the limits.
func ExampleSyncer() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := sharedstate.NewSyncer(sharedstate.NewMemoryStore(), sharedstate.Config{
		Mode: sharedstate.SyncEveryRequest,
		Now:  func() time.Time { return now },
	})
	defer s.Close()
	ctx := context.Background()
	lim := sharedstate.Limits{RPM: 2}

	for i := range 3 {
		r, err := s.Reserve(ctx, "gpt-4o-0", 120, lim)
		if err != nil {
			fmt.Println(i, err)
			continue
		}
		// ... send the request upstream, then report the real usage:
		r.Done(100)
		fmt.Println(i, "sent")
	}
	fmt.Printf("%+v\n", s.Usage("gpt-4o-0"))
	s.SetCooldown("gpt-4o-0", now.Add(time.Minute), "rate_limited")
	c, active := s.Cooldown("gpt-4o-0")
	fmt.Println(c.Reason, active)
	// Output:
	// 0 sent
	// 1 sent
	// 2 sharedstate: deployment "gpt-4o-0" at its rpm limit (2/2 requests)
	// {Requests:2 Tokens:200}
	// rate_limited true
}
