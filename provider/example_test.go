package provider_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-go/switchyard/provider"
)

// An error returned by a Client (or by the router, which wraps it) is read
// with errors.As for its details, errors.Is for one class, and
// Class.CallerFault for "is it my request?": a prompt too long for the
// model is a 400, but not ErrBadRequest.
func ExampleError() {
	var err error = fmt.Errorf("router: %w", &provider.Error{
		Class: provider.ClassContextWindow, StatusCode: 400, Code: "context_length_exceeded",
		Message: "This model's maximum context length is 128000 tokens.", Deployment: "gpt-4o-eu",
	})

	var pe *provider.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.StatusCode, pe.Code, pe.Deployment)
	}
	fmt.Println(errors.Is(err, provider.ErrContextWindow), errors.Is(err, provider.ErrBadRequest))
	fmt.Println(provider.ClassOf(err).CallerFault(), pe.RetryScope() == provider.RetryNever)

	// Context errors have classes too: a deadline is a timeout.
	fmt.Println(provider.ClassOf(context.DeadlineExceeded), provider.ClassOf(context.Canceled))
	// Output:
	// 400 context_length_exceeded gpt-4o-eu
	// true false
	// true true
	// timeout canceled
}
