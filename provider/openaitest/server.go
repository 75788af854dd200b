package openaitest

import (
	"net/http"
	"net/http/httptest"
)

// Server is a fake OpenAI upstream listening on a loopback address: a
// [Handler] served by an httptest.Server. The Handler's methods (SetFault,
// Stats, Requests, ...) are available on the Server directly. Safe for
// concurrent use.
type Server struct {
	*Handler

	// URL is the API base URL, including "/v1", such as
	// "http://127.0.0.1:1234/v1"; set when the server starts.
	URL string
	// RootURL is the server's URL without "/v1", such as
	// "http://127.0.0.1:1234": the endpoint an Azure OpenAI client is given.
	RootURL string
	// HTTP is the underlying test server. Set HTTP.EnableHTTP2 before
	// StartTLS to serve HTTP/2.
	HTTP *httptest.Server
}

// NewServer starts and returns a fake OpenAI upstream configured by opts.
// The caller must Close it.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a fake OpenAI upstream that is not started
// yet, so that the caller can change HTTP's configuration before calling
// Start or StartTLS.
func NewUnstartedServer(opts ...Option) *Server {
	h := NewHandler(opts...)
	return &Server{Handler: h, HTTP: httptest.NewUnstartedServer(h)}
}

// Start starts the server on plain HTTP.
func (s *Server) Start() {
	s.HTTP.Start()
	s.setURL()
}

// StartTLS starts the server on HTTPS with a self-signed certificate that
// the client from [Server.Client] trusts.
func (s *Server) StartTLS() {
	s.HTTP.StartTLS()
	s.setURL()
}

func (s *Server) setURL() {
	s.RootURL = s.HTTP.URL
	s.URL = s.HTTP.URL + "/v1"
}

// Client returns an HTTP client configured for the server (it trusts the
// TLS certificate); Close closes its idle connections.
func (s *Server) Client() *http.Client { return s.HTTP.Client() }

// Close ends every request still in progress (hangs and sleeps end at
// once), shuts the server down and waits for its handlers to return.
func (s *Server) Close() {
	s.Handler.shutdown()
	s.HTTP.Close()
}
