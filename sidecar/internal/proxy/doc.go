// Package proxy is the sidecar's auth-injecting reverse proxy: an
// httputil.ReverseProxy to one configured upstream whose transport puts a
// fresh bearer token on every request, replacing whatever Authorization
// the client sent, and retries once after an upstream 401 with a newly
// acquired token when the request body can be replayed.
//
// The proxy is not an open proxy: it refuses CONNECT and absolute-form
// request targets, and the Host header cannot change where it forwards.
package proxy
