// Package router spreads LLM API calls over many deployments behind one
// model name: it picks a deployment with a strategy, retries on another one
// when a call fails, falls back to other model groups, and takes failing
// deployments out of rotation with cooldowns and circuit breakers.
package router
