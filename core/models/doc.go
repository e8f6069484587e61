// Package models lists the models an OpenAI-compatible gateway serves and
// keeps that list in opencode's configuration, as the opencode-oauth2
// plugin does: GET <baseURL>/v1/models (or <baseURL>/models when baseURL
// ends in /v1) with the provider's access token, display names
// normalised ("glm-4.5-air" → "GLM 4.5 Air") unless nameOverrides names
// them, the last good list kept when a listing fails, and the list merged
// into provider.<id>.models.
//
// It holds no grant logic: the token comes from any oauth.TokenSource
// (normally a core provider).
package models
