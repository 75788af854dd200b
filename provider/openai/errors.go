package openai

// The errors the Client builds: every failure is a *provider.Error.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/internal/wire"
)

// timeoutError is the cause of a context the Client cancels for a timeout.
// It matches context.DeadlineExceeded with errors.Is.
type timeoutError struct {
	what string
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("openai: %s within %v", e.what, e.d)
}

// Timeout marks the error as a timeout, as net.Error does.
func (e *timeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// errStreamClosed is the cause of a stream's context once it was released.
var errStreamClosed = fmt.Errorf("openai: stream closed: %w", context.Canceled)

// transportErr classifies a failure to send or to read, looking first at
// why ctx ended: a timeout of this Client, the caller's deadline or the
// caller's cancellation.
func (c *Client) transportErr(ctx context.Context, err error) error {
	var e *provider.Error
	if ctx.Err() != nil {
		// The cause says who ended ctx; err itself only says "canceled".
		cause := context.Cause(ctx)
		var te *timeoutError
		switch {
		case errors.As(cause, &te), errors.Is(cause, context.DeadlineExceeded):
			e = &provider.Error{Class: provider.ClassTimeout, Err: cause}
		default:
			e = &provider.Error{Class: provider.ClassCanceled, Err: cause}
		}
	} else {
		e = wire.TransportError(err)
	}
	e.Deployment = c.cfg.DeploymentID
	return e
}

// upstreamErr builds the error for an upstream's error answer.
func (c *Client) upstreamErr(status int, h http.Header, body []byte) error {
	e := wire.ParseError(status, h, body, c.now())
	e.Deployment = c.cfg.DeploymentID
	return e
}

// garbage is the error for a successful status whose body is not what the
// endpoint returns.
func (c *Client) garbage(resp *http.Response, body []byte, err error) error {
	e := &provider.Error{
		Class:      provider.ClassConnection,
		StatusCode: resp.StatusCode,
		Message:    "openai: upstream garbage: the answer is not a JSON object",
		RequestID:  resp.Header.Get("X-Request-Id"),
		Header:     resp.Header,
		Body:       bytes.Clone(body[:min(len(body), wire.MaxErrorBody)]),
		Err:        err,
		Deployment: c.cfg.DeploymentID,
	}
	return e
}

// badRequest is the error for a request this Client refuses to send.
func (c *Client) badRequest(param, msg string, err error) error {
	return &provider.Error{
		Class: provider.ClassBadRequest, Param: param, Message: "openai: " + msg, Err: err,
		Deployment: c.cfg.DeploymentID,
	}
}

// wrapErr keeps an *provider.Error as it is (adding the deployment) and
// wraps anything else in one of class.
func (c *Client) wrapErr(err error, class provider.Class, msg string) error {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = &provider.Error{Class: class, Message: msg, Err: err}
	}
	if pe.Deployment == "" {
		pe.Deployment = c.cfg.DeploymentID
	}
	return pe
}
