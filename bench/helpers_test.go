package bench

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchyard-go/switchyard/router"
)

// quiet keeps the router's debug and cooldown logs out of benchmark output.
func quiet() router.Option { return router.WithLogger(slog.New(slog.DiscardHandler)) }

// funcClock is a router.Clock made of functions: now, and sleep (nil: a
// sleep that only checks the context).
type funcClock struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

func (c funcClock) Now() time.Time { return c.now() }

func (c funcClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.sleep == nil {
		return ctx.Err()
	}
	return c.sleep(ctx, d)
}
