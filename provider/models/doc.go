// Package models is Switchyard's built-in catalogue of OpenAI and Azure
// OpenAI models: context windows, output limits, per-token prices and
// capability flags, so that the router can pre-check prompt sizes, route by
// cost and estimate spend without calling any API.
//
// The table is generated from LiteLLM's model_prices_and_context_window.json
// by ./internal/gen and committed as Go source (table_gen.go); building the
// package needs no data file. Models the file no longer lists (retired ones
// such as o1-mini or gpt-4-32k) come from a small hand-written supplement.
//
// [Lookup] accepts the names users write in a LiteLLM-style config
// ("openai/gpt-4o", "azure/gpt-4o-mini", "ft:gpt-4o-2024-08-06:org::id",
// "gpt-4o-2099-01-01") and resolves them to the closest entry.
package models

//go:generate go run ./internal/gen -in ../../../shared/data/openai_azure_models.json -out table_gen.go
