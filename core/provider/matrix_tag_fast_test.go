//go:build !matrix

package provider_test

// matrixAll is false in `make test`: slow rows of the matrix are skipped.
const matrixAll = false
