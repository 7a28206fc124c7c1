package sync

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrUnknownFormat is returned by NewRenderer for a format it does not know.
var ErrUnknownFormat = errors.New("unknown plan output format")

// Output formats accepted by NewRenderer.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
	FormatGitHub   = "github"
)

// Formats lists the output formats NewRenderer accepts, in the order help
// text shows them.
var Formats = []string{FormatText, FormatJSON, FormatMarkdown, FormatGitHub}

// RenderOptions are the settings of a renderer.
type RenderOptions struct {
	// Color adds ANSI colours to the action symbols of the text format. The
	// caller decides, for example only on a terminal and without NO_COLOR.
	Color bool
	// Width is the terminal width in columns. The text format wraps longer
	// lines at spaces, and 0 turns wrapping off.
	Width int
	// AnnotationFile maps a compose file path of the plan, relative to the
	// project directory, to the path the github format's annotations show,
	// relative to the repository root. Nil keeps the path as it is.
	AnnotationFile func(path string) string
}

// Renderer prints a plan in one output format. Renderers print the buckets
// in the order they have, so call Plan.Sort first.
type Renderer interface {
	Render(w io.Writer, p *Plan) error
}

// NewRenderer returns the renderer for format: "text", "json", "markdown"
// (a summary for a pull-request comment or a job summary) or "github"
// (GitHub Actions annotations, then the text plan).
func NewRenderer(format string, opts RenderOptions) (Renderer, error) {
	switch format {
	case FormatText:
		return textRenderer{opts: opts}, nil
	case FormatJSON:
		return jsonRenderer{}, nil
	case FormatMarkdown:
		return markdownRenderer{}, nil
	case FormatGitHub:
		return githubRenderer{opts: opts}, nil
	}
	return nil, fmt.Errorf("plan output format %q: %w: use one of %s", format, ErrUnknownFormat, strings.Join(Formats, ", "))
}
