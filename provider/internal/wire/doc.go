// Package wire reads what OpenAI-compatible servers send on the wire, for
// the provider/openai client (and any other client under provider/): error
// answers turned into a classified *provider.Error ([ParseError],
// [Classify], [TransportError]) and server-sent event streams
// ([SSEReader]).
//
// It is internal so that the provider package stays the boundary the
// router and its users see: Client, Request, Response, Stream, Error and
// Class.
package wire
