package deployment

import "github.com/switchyard-go/switchyard/provider/models"

// withModelDefaults fills the zero fields of info from the model catalogue
// entry of model (provider/models.Lookup). Fields set in the config win,
// one by one; an unknown model leaves info as it is.
func withModelDefaults(model string, info ModelInfo) ModelInfo {
	m, ok := models.Lookup(model)
	if !ok {
		return info
	}
	if info.MaxInputTokens == 0 {
		info.MaxInputTokens = m.MaxInputTokens
	}
	if info.MaxOutputTokens == 0 {
		info.MaxOutputTokens = m.MaxOutputTokens
	}
	if info.InputCostPerToken == 0 {
		info.InputCostPerToken = m.InputCostPerToken
	}
	if info.OutputCostPerToken == 0 {
		info.OutputCostPerToken = m.OutputCostPerToken
	}
	return info
}
