// Command gateway is an OpenAI-compatible LLM gateway configured by a
// LiteLLM config.yaml: what LiteLLM's proxy does, on Switchyard.
//
//	go run ./examples/gateway --config config.yaml            # listens on 0.0.0.0:4000
//	go run ./examples/gateway --config examples/gateway/config.yaml --fake
//
// It reads model_list, router_settings, litellm_settings and
// general_settings (see package router/litellmconfig), logs every setting it
// does not support once at start, and serves the OpenAI API (package
// router/handler) with general_settings.master_key as the key clients must
// send (litellmconfig's Config.NewRouter and Config.HandlerOptions wire
// the file: router_settings.redis_host, or redis_url, shares rate limits,
// cooldowns and usage between replicas; litellm_settings.cache turns the
// response cache on, local or redis). Prometheus metrics are at /metrics,
// liveness at /health and deployment health at /health/readiness.
//
// With --fake it first starts two fake upstreams (package
// provider/openaitest), one speaking OpenAI's API and one Azure OpenAI's,
// and sets FAKE_OPENAI_BASE, FAKE_OPENAI_KEY, FAKE_AZURE_BASE and
// FAKE_AZURE_KEY for the config's os.environ/ values, so that the sample
// config.yaml runs with no API key.
//
// Non-streaming answers larger than a first read are passed through to the
// client as they arrive rather than held whole (unless the response cache
// stores them); --max-response-bytes (or general_settings.
// max_response_size_mb) bounds each one.
//
// On SIGTERM or SIGINT it drains: new requests are answered 503 with
// "Connection: close" and /health/readiness fails, for --shutdown-delay
// with the listener still open (so that a load balancer stops sending),
// then it stops accepting connections and lets the requests and streams
// in flight finish, for up to --shutdown-timeout.
//
// A request body must keep arriving: a client that sends nothing of it
// for --body-read-timeout (default 30 s) gets 408 and its connection
// closed. --protect-ops (or litellm_settings.require_auth_for_metrics_endpoint)
// puts /metrics and /health/readiness behind $SWITCHYARD_OPS_KEY, or the
// master key when that is unset; /health stays open for liveness probes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
	"github.com/switchyard-go/switchyard/router/litellmconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(1)
	}
}

// options are the command line flags.
type options struct {
	config          string
	host            string
	port            int
	fake            bool
	fakeLatency     time.Duration
	shutdownTimeout time.Duration
	shutdownDelay   time.Duration
	bodyTimeout     time.Duration
	protectOps      bool
	providerHeaders bool
	maxBody         int64
	maxResponse     int64
	debug           bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.config, "config", "config.yaml", "LiteLLM config.yaml to read")
	fs.StringVar(&o.host, "host", "0.0.0.0", "address to listen on")
	fs.IntVar(&o.port, "port", 4000, "port to listen on (0: any free port)")
	fs.BoolVar(&o.fake, "fake", false, "start built-in fake upstreams and point FAKE_OPENAI_BASE, FAKE_AZURE_BASE (and their keys) at them")
	fs.DurationVar(&o.fakeLatency, "fake-latency", 0, "with --fake: how long the fake upstreams take to answer")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM/SIGINT, how long requests and streams in flight may take to finish (the drain deadline)")
	fs.DurationVar(&o.shutdownDelay, "shutdown-delay", 0, "on SIGTERM/SIGINT, how long to keep accepting connections first, answering 503 and failing readiness so that a load balancer stops sending (5s suits Kubernetes)")
	fs.DurationVar(&o.bodyTimeout, "body-read-timeout", handler.DefaultBodyReadTimeout, "longest wait between two reads of a request body before answering 408 and closing the connection (negative: none)")
	fs.BoolVar(&o.protectOps, "protect-ops", false, "require a key for /metrics and /health/readiness: $SWITCHYARD_OPS_KEY when set, else the master key (also litellm_settings.require_auth_for_metrics_endpoint)")
	fs.BoolVar(&o.providerHeaders, "provider-headers", false, "also return every upstream header with an llm_provider- prefix, as LiteLLM does")
	fs.Int64Var(&o.maxBody, "max-body-bytes", handler.DefaultMaxBodyBytes, "largest JSON request body accepted")
	fs.Int64Var(&o.maxResponse, "max-response-bytes", 0, "largest non-streaming answer given to a client; larger ones fail (502 response_too_large) or are cut (0: general_settings.max_response_size_mb, else 512 MiB)")
	fs.BoolVar(&o.debug, "debug", false, "log every upstream attempt")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.port < 0 || o.port > 65535 {
		return o, fmt.Errorf("--port %d out of range", o.port)
	}
	if o.maxResponse < 0 {
		return o, fmt.Errorf("--max-response-bytes %d must not be negative", o.maxResponse)
	}
	if o.shutdownTimeout < 0 || o.shutdownDelay < 0 {
		return o, fmt.Errorf("--shutdown-timeout %s and --shutdown-delay %s must not be negative", o.shutdownTimeout, o.shutdownDelay)
	}
	return o, nil
}

// run starts the gateway and serves until ctx ends, then shuts down
// gracefully. Logs go to logOut; ready, when set, is called with the
// listening address once the gateway accepts connections.
func run(ctx context.Context, args []string, logOut io.Writer, ready func(addr string)) error {
	o, err := parseFlags(args, logOut)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))

	lookup := os.LookupEnv
	if o.fake {
		fakeEnv, closeFakes := startFakes(o.fakeLatency)
		defer closeFakes()
		lookup = func(name string) (string, bool) {
			if v, ok := fakeEnv[name]; ok {
				return v, true
			}
			return os.LookupEnv(name)
		}
		log.Info("fake upstreams started", "openai", fakeEnv["FAKE_OPENAI_BASE"], "azure", fakeEnv["FAKE_AZURE_BASE"])
	}

	cfg, err := litellmconfig.Load(o.config, litellmconfig.WithLookupEnv(lookup))
	if err != nil {
		var ce *litellmconfig.Error
		if errors.As(err, &ce) && !o.fake && strings.Contains(ce.Msg, "environment variable FAKE_") {
			return fmt.Errorf("%w (start with --fake to run against built-in fake upstreams)", err)
		}
		return err
	}
	for _, w := range cfg.Warnings {
		log.Warn("config: setting not supported", "setting", w.Setting, "line", w.Line, "count", w.Count, "detail", w.Msg)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := handler.NewMetrics(reg)
	if err := metrics.Err(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	// The gateway owns its process: go-redis's own log lines (dial errors
	// during an outage) become structured records beside the router's.
	sharedstate.RouteRedisLogs(log)
	rt, closeRouter, err := cfg.NewRouter(router.WithHooks(metrics.Hooks()), router.WithLogger(log))
	if err != nil {
		return err
	}
	defer closeRouter()
	if cfg.Redis != nil {
		log.Info("sharing rate limits, cooldowns and usage with other replicas through Redis", "redis", cfg.Redis.String())
	}
	if c := cfg.Cache; c != nil {
		log.Info("response cache on", "type", c.Type, "ttl", c.TTL)
	}
	if cfg.MasterKey == "" {
		log.Warn("no general_settings.master_key: the gateway answers anyone who can reach it")
	}
	hopts := append(cfg.HandlerOptions(),
		handler.WithMetrics(metrics),
		handler.WithLogger(log),
		handler.WithProviderHeaders(o.providerHeaders),
		handler.WithMaxBodyBytes(o.maxBody),
		handler.WithMaxResponseBytes(o.maxResponse)) // 0 keeps the file's
	hopts = append(hopts, opsOptions(o, cfg, lookup, log)...)
	h := handler.New(rt, hopts...)
	// No ReadTimeout or WriteTimeout: they would cut long uploads and
	// streams. Headers are bounded by ReadHeaderTimeout, bodies by the
	// handler's body read timeout, idle connections by IdleTimeout.
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		return err
	}
	log.Info("gateway listening", "addr", ln.Addr().String(), "config", o.config,
		"deployments", len(cfg.Router.Deployments), "model_groups", rt.ModelGroups(), "auth", cfg.MasterKey != "")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if serr := shutdown(srv, h, o, log, errc); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	log.Info("gateway stopped")
	return nil
}

// opsOptions are the handler options for the body read timeout and the
// protection of /metrics and /health/readiness.
func opsOptions(o options, cfg *litellmconfig.Config, lookup func(string) (string, bool), log *slog.Logger) []handler.Option {
	opts := []handler.Option{handler.WithBodyReadTimeout(o.bodyTimeout)}
	if !o.protectOps && !cfg.RequireAuthForMetrics {
		return opts
	}
	opts = append(opts, handler.WithProtectedOps(true))
	if k, ok := lookup("SWITCHYARD_OPS_KEY"); ok && k != "" {
		opts = append(opts, handler.WithOpsKeys(k))
		log.Info("/metrics and /health/readiness need $SWITCHYARD_OPS_KEY")
	} else if cfg.MasterKey == "" {
		log.Warn("/metrics and /health/readiness are protected but no key opens them: set general_settings.master_key or $SWITCHYARD_OPS_KEY")
	} else {
		log.Info("/metrics and /health/readiness need the master key")
	}
	return opts
}

// shutdown drains the gateway once told to stop: the handler answers new
// requests 503 with Connection: close and fails readiness, for
// --shutdown-delay while the listener stays open, so that a load balancer
// notices; then the server stops accepting connections and waits up to
// --shutdown-timeout for the requests and streams in flight, cutting what
// is left at that deadline. It returns Serve's error.
func shutdown(srv *http.Server, h *handler.Handler, o options, log *slog.Logger, errc <-chan error) error {
	h.Drain()
	if o.shutdownDelay > 0 {
		log.Info("shutting down: refusing new requests, readiness failing", "delay", o.shutdownDelay)
		select {
		case <-time.After(o.shutdownDelay):
		case err := <-errc:
			return err
		}
	}
	log.Info("shutting down: no new connections; waiting for requests in flight", "timeout", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight at the deadline were cut", "error", err)
		_ = srv.Close()
	}
	return <-errc
}

// startFakes starts a fake OpenAI upstream and a fake Azure OpenAI
// resource, returning the environment that points the sample config at
// them and a function that stops them.
func startFakes(latency time.Duration) (map[string]string, func()) {
	const openaiKey, azureKey = "sk-fake-openai", "fake-azure-key"
	oa := openaitest.NewServer(
		openaitest.WithKey(openaiKey, openaitest.KeyConfig{RPM: 60, TPM: 200000, PerModel: true}),
		openaitest.WithLatency(latency), openaitest.WithHistory(0))
	az := openaitest.NewServer(
		openaitest.WithKey(azureKey, openaitest.KeyConfig{RPM: 600, TPM: 1000000}),
		openaitest.WithLatency(latency), openaitest.WithHistory(0))
	env := map[string]string{
		"FAKE_OPENAI_BASE": oa.URL,
		"FAKE_OPENAI_KEY":  openaiKey,
		"FAKE_AZURE_BASE":  az.RootURL,
		"FAKE_AZURE_KEY":   azureKey,
	}
	return env, func() { oa.Close(); az.Close() }
}
