package deployment

// withModelDefaults fills the zero fields of info from the model catalogue.
func withModelDefaults(model string, info ModelInfo) ModelInfo {
	return info
}
