//go:build !matrix

package app

// matrixAll is false in `make test`: slow rows of the matrix are skipped.
const matrixAll = false
