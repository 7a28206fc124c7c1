// Command portcullis keeps a Cloudflare Tunnel's public routes in step with
// docker compose files.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], systemStreams(), os.Environ())
	stop()
	os.Exit(code)
}
