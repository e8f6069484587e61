//go:build !linux

package netns

import (
	"context"
	"errors"
	"os/exec"
)

var errUnsupported = errors.New("netns: network namespaces need Linux")

// IDOf needs Linux.
func IDOf(string) (ID, error) { return ID{}, errUnsupported }

// Self needs Linux.
func Self() (ID, error) { return ID{}, errUnsupported }

// Create needs Linux.
func Create(context.Context, string) error { return errUnsupported }

// Delete needs Linux.
func Delete(context.Context, string) error { return errUnsupported }

// RemoveStale finds nothing off Linux.
func RemoveStale(context.Context) []string { return nil }

// Nsenter is util-linux's nsenter.
const Nsenter = "/usr/bin/nsenter"

// Command fails to start off Linux.
func Command(_, path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Err = errUnsupported
	return cmd
}

// Inside needs Linux.
func Inside(string) error { return errUnsupported }

// Outside finds nothing off Linux.
func Outside(string, ID) ([]int, []Proc) { return nil, nil }
