package mockidp

import (
	"context"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// metadataServer serves OpenID discovery and RFC 8414 metadata for every
// issuer of a Server, in all the URL forms zitadel's MetadataHandler
// recognises: {issuer}/.well-known/openid-configuration,
// /.well-known/openid-configuration{path} and
// /.well-known/oauth-authorization-server{path}.
type metadataServer struct {
	op.UnimplementedMetadataServer
	s *Server
}

func (m *metadataServer) notFound(path string) error {
	return op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("%s", "no issuer at path "+path), http.StatusNotFound)
}

// OpenIDConfiguration implements op.MetadataServer.
func (m *metadataServer) OpenIDConfiguration(_ context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	name := strings.TrimPrefix(r.Data.IssuerPath, "/")
	if is, ok := m.s.issuers[name]; ok {
		return op.NewResponse(is.discovery()), nil
	}
	if c := m.s.cluster; c != nil && c.name == name {
		return op.NewResponse(c.discovery()), nil
	}
	return nil, m.notFound(r.Data.IssuerPath)
}

// AuthorizationServerMetadata implements op.MetadataServer. The cluster,
// like a Kubernetes API server, has none.
func (m *metadataServer) AuthorizationServerMetadata(_ context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	name := strings.TrimPrefix(r.Data.IssuerPath, "/")
	if is, ok := m.s.issuers[name]; ok {
		return op.NewResponse(is.discovery()), nil
	}
	return nil, m.notFound(r.Data.IssuerPath)
}
