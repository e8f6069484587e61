// Package config reads fedtoken provider configuration.
//
// Two shapes are accepted and produce the same [Provider] values:
//
//   - the native fedtoken file, YAML or JSON, with a top-level "providers"
//     map (id → provider), plus "cache" and "sidecar" sections;
//   - the upstream opencode.json of the @vymalo/opencode-oauth2 plugin, read
//     unchanged: every provider.<id>.options.oauth2 block and every entry of
//     pluginConfig.oauth2ModelSync.servers[].
//
// Field names are the upstream camelCase names (issuer, clientId,
// subjectTokenSource, …) in both shapes, and the upstream defaults are kept
// (authFlow authorization_code, pkce true, httpTimeoutMs 15000,
// tokenExpirySkewMs 30000, kubernetes_sa token path
// /var/run/secrets/tokens/oauth2/token).
//
// Unknown fields are tolerated and reported in [File.Warnings]. Invalid
// values are rejected with the JSON path of the field and what is allowed;
// every problem is reported, not only the first (each one a [*FieldError]
// joined with errors.Join). No secret value ever appears in an error.
//
// Parsing resolves every default, so a [Provider] returned by this package
// needs no further defaulting by its consumers. The package does no I/O
// besides [Load] and [Provider.LoadClientSecret].
package config
