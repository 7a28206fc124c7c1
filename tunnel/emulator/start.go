package emulator

import (
	"net"
	"net/http/httptest"
	"testing"
)

// Start serves the emulator on a new httptest server bound to 127.0.0.1,
// closes it when the test ends and returns the API base URL,
// "http://127.0.0.1:<port>/client/v4".
func (e *Emulator) Start(t testing.TB) (baseURL string) {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start emulator: listen on 127.0.0.1: %v", err)
	}
	server := httptest.NewUnstartedServer(e)
	// Replace httptest's own listener so the address never depends on the
	// -httptest.serve flag.
	_ = server.Listener.Close()
	server.Listener = listener
	server.Start()
	t.Cleanup(server.Close)

	return server.URL + pathPrefix
}
