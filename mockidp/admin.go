package mockidp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 1 << 20

// adminHandler serves the admin API (docs/mockidp.md "Admin API"). It has
// no authentication: serve it on loopback only.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/issuers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Issuers())
	})
	mux.HandleFunc("GET /admin/requests", s.adminRequests)
	mux.HandleFunc("GET /admin/counters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Counters())
	})
	mux.HandleFunc("POST /admin/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /admin/faults", s.adminAddFaults)
	mux.HandleFunc("DELETE /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /admin/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveFault(r.PathValue("id")) {
			adminError(w, http.StatusNotFound, fmt.Errorf("no fault %q", r.PathValue("id")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /admin/issuers/{issuer}/trust", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.Trust(r.PathValue("issuer"))
		reply(w, out, err)
	})
	mux.HandleFunc("PUT /admin/issuers/{issuer}/trust/{name}", func(w http.ResponseWriter, r *http.Request) {
		var tc TrustConfig
		if !readJSON(w, r, &tc) {
			return
		}
		tc.Name = r.PathValue("name")
		reply(w, nil, s.SetTrust(r.PathValue("issuer"), tc))
	})
	mux.HandleFunc("DELETE /admin/issuers/{issuer}/trust/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, s.RemoveTrust(r.PathValue("issuer"), r.PathValue("name")))
	})
	mux.HandleFunc("GET /admin/issuers/{issuer}/clients", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.Clients(r.PathValue("issuer"))
		reply(w, out, err)
	})
	mux.HandleFunc("PUT /admin/issuers/{issuer}/clients/{id}", func(w http.ResponseWriter, r *http.Request) {
		var cc ClientConfig
		if !readJSON(w, r, &cc) {
			return
		}
		cc.ID = r.PathValue("id")
		reply(w, nil, s.SetClient(r.PathValue("issuer"), cc))
	})
	mux.HandleFunc("DELETE /admin/issuers/{issuer}/clients/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, s.RemoveClient(r.PathValue("issuer"), r.PathValue("id")))
	})
	mux.HandleFunc("POST /admin/issuers/{issuer}/device/{decision}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			UserCode string `json:"userCode"`
			Username string `json:"username"`
		}
		if !readJSON(w, r, &body) {
			return
		}
		switch r.PathValue("decision") {
		case "approve":
			reply(w, nil, s.ApproveDevice(r.PathValue("issuer"), body.UserCode, body.Username))
		case "deny":
			reply(w, nil, s.DenyDevice(r.PathValue("issuer"), body.UserCode))
		default:
			adminError(w, http.StatusNotFound, fmt.Errorf("unknown device decision %q: want approve or deny", r.PathValue("decision")))
		}
	})
	mux.HandleFunc("GET /admin/cluster", s.withCluster(func(w http.ResponseWriter, r *http.Request, c *Cluster) {
		writeJSON(w, http.StatusOK, map[string]any{
			"name": c.name, "issuer": c.url, "tokenFiles": c.TokenFiles(), "rotations": c.Rotations(),
		})
	}))
	mux.HandleFunc("POST /admin/cluster/rotate", s.withCluster(func(w http.ResponseWriter, r *http.Request, c *Cluster) {
		reply(w, nil, c.Rotate())
	}))
	mux.HandleFunc("POST /admin/cluster/tokens", s.withCluster(func(w http.ResponseWriter, r *http.Request, c *Cluster) {
		var req ServiceAccountToken
		if !readJSON(w, r, &req) {
			return
		}
		tok, err := c.Mint(req)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	}))
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, fmt.Errorf("no admin endpoint %s %s (see docs/mockidp.md)", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) withCluster(h func(http.ResponseWriter, *http.Request, *Cluster)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cluster == nil {
			adminError(w, http.StatusNotFound, fmt.Errorf("no cluster configured"))
			return
		}
		h(w, r, s.cluster)
	}
}

// adminRequests lists the request log, filtered by the query parameters
// issuer, endpoint, grant and since (a sequence number).
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since int64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("since=%q: want a sequence number", v))
			return
		}
		since = n
	}
	out := []RequestRecord{}
	for _, rec := range s.Requests() {
		if rec.Seq <= since ||
			(q.Has("issuer") && rec.Issuer != q.Get("issuer")) ||
			(q.Has("endpoint") && rec.Endpoint != q.Get("endpoint")) ||
			(q.Has("grant") && rec.Grant != q.Get("grant")) {
			continue
		}
		out = append(out, rec)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminAddFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return
	}
	var rules []FaultRule
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		err = strictJSON(body, &rules)
	} else {
		var one FaultRule
		err = strictJSON(body, &one)
		rules = []FaultRule{one}
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	ids := []string{}
	for i, rule := range rules {
		id, err := s.AddFault(rule)
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("rule %d: %w (rules before it were added: %v)", i, err, ids))
			return
		}
		ids = append(ids, id)
	}
	writeJSON(w, http.StatusCreated, map[string][]string{"ids": ids})
}

func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err == nil {
		err = strictJSON(body, dst)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

func strictJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

func reply(w http.ResponseWriter, out any, err error) {
	switch {
	case err != nil:
		adminError(w, http.StatusBadRequest, err)
	case out == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func adminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a failed write to the client cannot be reported
}
