package cmd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
)

// openBrowser starts the platform's URL opener (xdg-open, open,
// rundll32) and does not wait for the browser. It fails when there is no
// opener or, on Linux and BSD, no graphical display (xdg-open would fall
// back to a text browser in this very terminal); the caller then only
// prints the URL.
func openBrowser(_ context.Context, url string) error {
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical display")
		}
		name = "xdg-open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return err
	}
	// Not CommandContext: the opener must outlive the login's context.
	c := exec.Command(path, append(args, url)...)
	if err := c.Start(); err != nil {
		return err
	}
	go func() { _ = c.Wait() }() // reap it; openers return quickly
	return nil
}
