package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/cobra"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	files            []string
	projectDirectory string
	configFile       string
	profiles         []string
	envFiles         []string
	projectName      string
	target           string
	output           string
	outputFile       string
	debug            bool

	// resolvedProjectDirectory is the project directory the settings
	// resolved (which -f can move), once they are loaded.
	resolvedProjectDirectory string

	streams *streams
	environ []string
	// code is the exit code a command sets through finish.
	code int
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, s *streams, environ []string) int {
	g := &globalOptions{streams: s, environ: environ}
	root := newCmdRoot(g)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(s.ErrOut, err)
		if g.code == 0 {
			return exitError
		}
	}
	return g.code
}

func newCmdRoot(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "portcullis",
		Short: "Keep a Cloudflare Tunnel's public routes in step with docker compose files",
		Long: `portcullis reads public hostnames from docker compose labels, turns them into
cloudflared ingress rules and proxied CNAME records, shows the difference from
what is live, and applies it through the Cloudflare API or to a locally-managed
cloudflared config.yml. It refuses every route to a service labelled
security=internal-only, and never changes a rule or record it did not create.

` + exitCodeHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringArrayVarP(&g.files, "file", "f", nil, "compose file, as docker compose -f (repeatable; later files override earlier ones)")
	pf.StringVar(&g.projectDirectory, "project-directory", "", "project directory (default: the working directory)")
	pf.StringVar(&g.configFile, "config", "", "portcullis settings file (default: portcullis.yaml in the project directory)")
	pf.StringArrayVar(&g.profiles, "profile", nil, "compose profile to enable (repeatable)")
	pf.StringArrayVar(&g.envFiles, "env-file", nil, "compose environment file (repeatable; default: .env in the project directory)")
	pf.StringVarP(&g.projectName, "project-name", "p", "", "compose project name")
	pf.StringVar(&g.target, "target", "", "where the tunnel configuration lives: api or file")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json; plan also takes markdown and github, graph takes mermaid and dot")
	pf.StringVar(&g.outputFile, "output-file", "", "also write the output in the chosen format to this file; the terminal gets text")
	pf.BoolVar(&g.debug, "debug", false, "log HTTP traffic and decisions to standard error (the token is never logged)")

	root.AddCommand(newCmdPlan(g), newCmdApply(g), newCmdValidate(g), newCmdStatus(g), newCmdVersion(g), newCmdAudit(g), newCmdGraph(g), newCmdRevoke(g), newCmdRestore(g))
	root.SetHelpTemplate(root.HelpTemplate())
	return root
}

// logger returns the debug logger, or one that discards everything.
func (g *globalOptions) logger() *slog.Logger {
	if !g.debug {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(g.streams.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// finish records the exit code of a command that ran to the end.
func (g *globalOptions) finish(o outcome, err error) error {
	g.code = exitCode(o, err)
	return err
}

// printError prints err, one line per problem when it holds several.
func printError(w io.Writer, err error) {
	var merr *multierror.Error
	if errors.As(err, &merr) && len(merr.Errors) > 1 {
		fmt.Fprintf(w, "error: %d problems:\n", len(merr.Errors))
		for _, e := range merr.Errors {
			fmt.Fprintf(w, "  - %v\n", e)
		}
		return
	}
	if errors.As(err, &merr) && len(merr.Errors) == 1 {
		err = merr.Errors[0]
	}
	fmt.Fprintf(w, "error: %v\n", err)
}
