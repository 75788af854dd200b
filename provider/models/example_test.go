package models_test

import (
	"fmt"

	"github.com/switchyard-go/switchyard/provider/models"
)

func ExampleLookup() {
	for _, name := range []string{"openai/gpt-4o", "azure/gpt-4o-mini", "ft:gpt-4o-2024-05-13:acme::x1", "gpt-4o-2099-01-01", "o1-mini", "my-deployment"} {
		info, ok := models.Lookup(name)
		if !ok {
			fmt.Printf("%-30s unknown\n", name)
			continue
		}
		fmt.Printf("%-30s %-18s window %d\n", name, info.Name, info.MaxInputTokens)
	}
	// Output:
	// openai/gpt-4o                  gpt-4o             window 128000
	// azure/gpt-4o-mini              azure/gpt-4o-mini  window 128000
	// ft:gpt-4o-2024-05-13:acme::x1  gpt-4o-2024-05-13  window 128000
	// gpt-4o-2099-01-01              gpt-4o             window 128000
	// o1-mini                        o1-mini            window 128000
	// my-deployment                  unknown
}

func ExampleCost() {
	info, _ := models.Lookup("gpt-4o")
	// 10,000 prompt tokens of which 8,000 cached, 500 completion tokens.
	fmt.Printf("$%.5f\n", models.Cost(info, 10000, 500, 8000))
	// Output:
	// $0.02000
}
