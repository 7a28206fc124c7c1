package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newCmdVersion(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of portcullis and of the libraries it is built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := g.streams.Out
			fmt.Fprintf(w, "portcullis %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, dep := range info.Deps {
					switch dep.Path {
					case "github.com/compose-spec/compose-go/v2", "github.com/cloudflare/cloudflare-go/v6":
						fmt.Fprintf(w, "  %s %s\n", dep.Path, dep.Version)
					}
				}
			}
			return nil
		},
	}
}
