// Package sink writes each provider's access token to a file (typically on
// an emptyDir shared with the app container) for apps that read a key from
// a file. Every write is atomic: a reader sees the old token or the new
// one, never a mix or an empty file.
package sink
