//go:build matrix

package provider_test

// matrixAll is true in `make matrix` (build tag matrix): every row runs.
const matrixAll = true
