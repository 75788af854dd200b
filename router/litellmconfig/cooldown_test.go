package litellmconfig

import "testing"

func TestCooldownTimeZeroDisablesCooldowns(t *testing.T) {
	for _, tc := range []struct {
		value    string
		disabled bool
	}{{"0", true}, {"30", false}} {
		cfg, err := Parse([]byte(`model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-test
router_settings:
  cooldown_time: ` + tc.value + "\n"))
		if err != nil {
			t.Fatalf("cooldown_time %s: %v", tc.value, err)
		}
		ct := cfg.Router.Settings.Deployment.CooldownTime
		if got := ct != nil && *ct == 0; got != tc.disabled {
			t.Errorf("cooldown_time %s: Deployment.CooldownTime = %v, want new(0): %v", tc.value, ct, tc.disabled)
		}
	}
}
