//go:build !unix

package subject

import "os/exec"

// killProcessGroup keeps exec's default: on timeout or cancellation the
// command itself is killed; WaitDelay bounds the wait for its children.
func killProcessGroup(*exec.Cmd) {}
