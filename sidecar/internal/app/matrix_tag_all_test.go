//go:build matrix

package app

// matrixAll is true in `make matrix` (build tag matrix): every row runs.
const matrixAll = true
