package openai

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection pool sizes of the shared default client. A router sends many
// concurrent requests to few hosts (api.openai.com, one Azure resource), so
// the standard library's two idle connections per host would make most
// requests open a new TLS connection.
const (
	defaultMaxIdleConns        = 4096
	defaultMaxIdleConnsPerHost = 1024
)

// sharedClient is the http.Client used when Config.HTTPClient is nil. It is
// created on first use and never changed, so every Client shares one
// connection pool.
var sharedClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: NewTransport()}
})

// NewTransport returns an http.Transport tuned for talking to LLM APIs:
// environment proxies, HTTP/2 when the server offers it, large idle pools
// per host, and no response-header timeout (the Client's contexts bound
// each call). Start from it to customise TLS or proxies in
// Config.HTTPClient.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          defaultMaxIdleConns,
		MaxIdleConnsPerHost:   defaultMaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
