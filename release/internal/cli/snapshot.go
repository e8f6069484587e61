package cli

import (
	"context"
	"errors"
	"io"
)

func snapshot(ctx context.Context, args []string, stderr io.Writer) error {
	return errors.New("not yet")
}

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not yet")
}
