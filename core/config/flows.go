package config

import "github.com/fedtoken/fedtoken/core/grant"

// Info returns the row of f in the table of flows (grant.Flows); the zero
// grant.Flow when f is not a flow.
func (f Flow) Info() grant.Flow {
	row, _ := grant.LookupFlow(string(f))
	return row
}
