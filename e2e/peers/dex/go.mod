// Module dex is a build wrapper: e2e/scripts/install-peers.sh builds
// github.com/dexidp/dex/cmd/dex with CGO_ENABLED=0 from it. Dex's v2 tags
// lack a /v2 module suffix, so v2.45.1 is pinned by pseudo-version.
// It is not part of go.work.
module fedtoken.e2e/peers/dex

go 1.26.0

require github.com/dexidp/dex v0.0.0-20260303133905-11d2eeb52b42
