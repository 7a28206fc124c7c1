// Package deps pins the module's dependencies while the packages that use
// them are written. It is removed once every dependency has an importer.
package deps

import (
	_ "github.com/cloudflare/cloudflare-go/v6"
	_ "github.com/cloudflare/cloudflare-go/v6/dns"
	_ "github.com/cloudflare/cloudflare-go/v6/option"
	_ "github.com/cloudflare/cloudflare-go/v6/zero_trust"
	_ "github.com/cloudflare/cloudflare-go/v6/zones"
	_ "github.com/compose-spec/compose-go/v2/cli"
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/compose-spec/compose-go/v2/types"
	_ "github.com/hashicorp/go-multierror"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/pflag"
	_ "github.com/spf13/viper"
	_ "golang.org/x/net/idna"
	_ "golang.org/x/term"
	_ "gopkg.in/yaml.v3"
)
