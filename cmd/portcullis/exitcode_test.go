package main

import (
	"errors"
	"fmt"
	"testing"
)

func TestExitCodePrecedence(t *testing.T) {
	failure := errors.New("could not read")
	tests := []struct {
		name string
		o    outcome
		err  error
		want int
	}{
		{"nothing to do", outcome{}, nil, 0},
		{"pending", outcome{pending: true}, nil, 2},
		{"not in force beats pending", outcome{pending: true, notInForce: true}, nil, 4},
		{"error beats not in force", outcome{notInForce: true, pending: true}, failure, 1},
		{"violation beats error", outcome{violation: true}, failure, 3},
		{"violation alone", outcome{violation: true, pending: true, notInForce: true}, nil, 3},
		{"wrapped violation error", outcome{}, fmt.Errorf("apply: %w", errViolation), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.o, tt.err); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}
