// Command portcullis-emulator serves an in-memory emulator of the Cloudflare
// API endpoints that portcullis calls, so the API target can be tried
// without a Cloudflare account. It listens only on a loopback address.
//
// Usage:
//
//	portcullis-emulator [--listen 127.0.0.1:8787] [--seed FILE]
//
// Without --seed it creates a demo account with the zone example.com, the
// remotely-managed tunnel pa-ecosystem and the made-up token emulator-token
// with every permission, and prints what portcullis needs to reach them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/portcullis-dev/portcullis/tunnel/emulator"
)

// Demo state created when no seed file is given. The token is made up and
// works only against this emulator.
const (
	demoAccountID = "0123456789abcdef0123456789abcdef"
	demoZone      = "example.com"
	demoTunnel    = "pa-ecosystem"
	demoToken     = "emulator-token"
)

// shutdownTimeout bounds how long in-flight requests may finish after a
// signal.
const shutdownTimeout = 5 * time.Second

// errNotLoopback is returned for a listen address that is not on a
// loopback interface.
var errNotLoopback = errors.New("listen address is not a loopback address")

// options are the command-line settings.
type options struct {
	listen string
	seed   string
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := run(os.Args[1:], os.Stdout, logger)
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err != nil {
		logger.Error("portcullis-emulator failed", "error", err)
		os.Exit(1)
	}
}

// run parses the arguments, builds the emulator and serves it until
// SIGINT or SIGTERM.
func run(args []string, stdout io.Writer, logger *slog.Logger) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := checkLoopback(opts.listen); err != nil {
		return err
	}

	emu, demo, err := buildEmulator(opts.seed)
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.listen, err)
	}
	baseURL := "http://" + listener.Addr().String() + "/client/v4"
	printSummary(stdout, baseURL, emu, demo)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, listener, emu, logger)
}

func parseFlags(args []string) (options, error) {
	var opts options
	flags := pflag.NewFlagSet("portcullis-emulator", pflag.ContinueOnError)
	flags.StringVar(&opts.listen, "listen", "127.0.0.1:8787", "address to serve on, host:port; the host must be a loopback IP or localhost")
	flags.StringVar(&opts.seed, "seed", "", "JSON seed file with tokens, zones, tunnels and records; default: a demo account")
	if err := flags.Parse(args); err != nil {
		return opts, err
	}
	if flags.NArg() > 0 {
		return opts, fmt.Errorf("unexpected arguments %q: portcullis-emulator takes only flags", flags.Args())
	}
	return opts, nil
}

// checkLoopback accepts host:port when host is "localhost" or a loopback
// IP, so the emulator is never reachable from another machine.
func checkLoopback(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("invalid --listen %q: use host:port, e.g. 127.0.0.1:8787: %w", address, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("invalid --listen %q: use 127.0.0.1, ::1 or localhost as the host: %w", address, errNotLoopback)
	}
	return nil
}

// buildEmulator returns an emulator filled from the seed file, or with the
// demo account when seedPath is empty; demo is true in the second case.
func buildEmulator(seedPath string) (emu *emulator.Emulator, demo bool, err error) {
	emu = emulator.New()
	if seedPath == "" {
		emu.AddToken(demoToken, emulator.AllPermissions()...)
		emu.AddZone(demoAccountID, demoZone)
		emu.AddTunnel(demoAccountID, demoTunnel, "cloudflare")
		return emu, true, nil
	}

	f, err := os.Open(seedPath)
	if err != nil {
		return nil, false, fmt.Errorf("open seed file: %w", err)
	}
	defer f.Close()
	if err := emu.Seed(f); err != nil {
		return nil, false, fmt.Errorf("seed file %s: %w", seedPath, err)
	}
	return emu, false, nil
}

// printSummary writes the base URL and the seeded accounts, zones and
// tunnels; for the demo account it also writes the token.
func printSummary(w io.Writer, baseURL string, emu *emulator.Emulator, demo bool) {
	fmt.Fprintf(w, "base_url:   %s\n", baseURL)
	if demo {
		fmt.Fprintf(w, "account_id: %s\n", demoAccountID)
		for _, t := range emu.Tunnels() {
			fmt.Fprintf(w, "tunnel_id:  %s\n", t.ID)
		}
		fmt.Fprintf(w, "api_token:  %s\n", demoToken)
		return
	}

	for _, z := range emu.Zones() {
		fmt.Fprintf(w, "zone:       %s %s (account %s)\n", z.ID, z.Name, z.AccountID)
	}
	for _, t := range emu.Tunnels() {
		fmt.Fprintf(w, "tunnel:     %s %s (account %s, config_src %s)\n", t.ID, t.Name, t.AccountID, t.ConfigSrc)
	}
}

// serve handles requests until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, listener net.Listener, handler http.Handler, logger *slog.Logger) error {
	server := &http.Server{
		Handler:           logRequests(handler, logger),
		ReadHeaderTimeout: 10 * time.Second,
	}

	errs := make(chan error, 1)
	go func() { errs <- server.Serve(listener) }()
	logger.Info("emulator started", "address", listener.Addr().String())

	select {
	case err := <-errs:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("emulator stopped")
	return nil
}

// statusRecorder keeps the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests logs the method, path and status of every request. Headers
// are never logged, so tokens stay out of the log.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "status", rec.status)
	})
}
