package litellmconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/strategy"
)

func TestStrategyArgsForAnotherStrategyAreWarnedAndDropped(t *testing.T) {
	const file = `model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-test
router_settings:
  routing_strategy: usage-based-routing-v2
  routing_strategy_args:
    ttl: 60
    seed: 7
`
	cfg, err := Parse([]byte(file))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	args := cfg.Router.Settings.RoutingStrategyArgs
	if _, ok := args["ttl"]; ok {
		t.Errorf("ttl kept in %v: usage-based routing does not take it", args)
	}
	if args["seed"] == nil {
		t.Errorf("seed dropped from %v: every strategy takes it", args)
	}
	var found bool
	for _, w := range cfg.Warnings {
		if w.Setting == "router_settings.routing_strategy_args.ttl" {
			found = true
			if w.Line != 9 || !strings.Contains(w.Msg, "usage-based-routing-v2") {
				t.Errorf("warning %v: want line 9 naming the strategy", w)
			}
		}
	}
	if !found {
		t.Errorf("no warning for the dropped ttl; warnings: %v", cfg.Warnings)
	}
}

// A known argument with a bad value is not dropped as another strategy's
// would be: Load refuses it, at its line, with the router's reason.
func TestStrategyArgWithWrongTypeFailsAtLoad(t *testing.T) {
	const file = `model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-test
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args:
    lowest_latency_buffer: fast
`
	_, err := Parse([]byte(file))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse: %v, want an *Error", err)
	}
	if e.Line != 9 || e.Setting != "router_settings.routing_strategy_args.lowest_latency_buffer" ||
		!strings.Contains(e.Msg, `"fast": want a number`) || !strings.Contains(e.Msg, "latency-based-routing") {
		t.Errorf("error %+v", e)
	}
	var ae *strategy.ArgError
	if !errors.As(err, &ae) || ae.Arg != "lowest_latency_buffer" || ae.Value != "fast" {
		t.Errorf("cause %v, want the strategy's *ArgError", err)
	}
}
