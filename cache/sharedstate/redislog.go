package sharedstate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisLogger writes go-redis's log lines as log/slog records: go-redis
// logs through a printf-style interface (redis.SetLogger takes any value
// with this Printf method), by default as unstructured lines on standard
// error, such as one per failed dial while Redis is down. Each line becomes
// a Warn record whose message is the line without go-redis's "redis: "
// prefix, with the attribute component=go-redis. The zero value logs to
// slog.Default() (as it is when the line is written). It is safe for
// concurrent use.
type RedisLogger struct {
	// Logger receives the records; nil means slog.Default().
	Logger *slog.Logger
}

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !lg.Enabled(ctx, slog.LevelWarn) {
		return
	}
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	lg.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("component", "go-redis"))
}

// RouteRedisLogs makes go-redis log through logger (nil: slog.Default())
// with a [RedisLogger], so that an outage's dial errors arrive as
// structured records beside the router's own instead of as lines on
// standard error.
//
// go-redis has one logger for the whole process (redis.SetLogger): this
// replaces it for every go-redis client, this package's and any other,
// including a logger you set yourself. That is why nothing in Switchyard
// calls it: NewRedisStore and the router leave go-redis's logger alone.
// Call it once at start-up if you want it (a gateway would, with its own
// logger), or call redis.SetLogger yourself, with a RedisLogger or
// anything else, and not this.
func RouteRedisLogs(logger *slog.Logger) {
	redis.SetLogger(RedisLogger{Logger: logger})
}
