//go:build !linux

package netns

import (
	"context"
	"errors"
	"os"
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

// Run needs Linux.
func Run(string, *exec.Cmd, func(*os.Process)) error { return errUnsupported }

// Inside needs Linux.
func Inside(string) error { return errUnsupported }

// Outside finds nothing off Linux.
func Outside(string, ID) ([]int, []Proc) { return nil, nil }
