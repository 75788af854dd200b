package bench

import (
	"log/slog"

	"github.com/switchyard-go/switchyard/router"
)

// quiet keeps the router's debug and cooldown logs out of benchmark output.
func quiet() router.Option { return router.WithLogger(slog.New(slog.DiscardHandler)) }
