package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// streams is the one place terminal I/O goes through: colour and prompts
// happen only on a terminal.
type streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY report whether standard input and output are
	// terminals.
	InTTY  bool
	OutTTY bool
	// NoColor is set by the NO_COLOR convention.
	NoColor bool
}

func systemStreams() *streams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		NoColor: noColor,
	}
}

// Color reports whether output to Out may carry ANSI colour.
func (s *streams) Color() bool {
	return s.OutTTY && !s.NoColor
}

// CanPrompt reports whether a person can answer a question.
func (s *streams) CanPrompt() bool {
	return s.InTTY && s.OutTTY
}

// Confirm asks a yes/no question on the terminal; anything but y or yes
// is a no.
func (s *streams) Confirm(question string) bool {
	fmt.Fprintf(s.Out, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
