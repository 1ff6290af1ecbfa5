package web

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
)

// keyRequest binds a signing key: kind pkcs11 with uri (a key on an HSM or
// token the service holds; its PIN is the service's configuration), pkcs12
// with the file as base64 and its password (kept sealed in the service's
// keystore), or external with the PEM certificates of a key the user holds
// on their own token. certificates may add issuing CAs to the first two.
type keyRequest struct {
	Kind         string `json:"kind"`
	URI          string `json:"uri"`
	PKCS12       []byte `json:"pkcs12"`
	Password     string `json:"password"`
	Certificates string `json:"certificates"`
}

func (req *keyRequest) material() (accounts.KeyMaterial, error) {
	m := accounts.KeyMaterial{Kind: req.Kind, URI: req.URI, PKCS12: req.PKCS12, Password: []byte(req.Password)}
	rest := []byte(req.Certificates)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return m, &accounts.InputError{Msg: fmt.Sprintf("certificates: certificate %d does not parse", len(m.Certificates)+1)}
		}
		m.Certificates = append(m.Certificates, c)
	}
	if req.Certificates != "" && len(m.Certificates) == 0 {
		return m, &accounts.InputError{Msg: "certificates: no PEM CERTIFICATE block found"}
	}
	return m, nil
}

func (s *Server) bindUserKey(w http.ResponseWriter, r *http.Request) {
	s.bindKey(w, r, chi.URLParam(r, "id"), "")
}

// bindSealKey binds the organisation's seal key (chữ ký số của cơ quan),
// which only its clerks will use.
func (s *Server) bindSealKey(w http.ResponseWriter, r *http.Request) {
	s.bindKey(w, r, "", chi.URLParam(r, "id"))
}

func (s *Server) bindKey(w http.ResponseWriter, r *http.Request, userID, orgID string) {
	var req keyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	m, err := req.material()
	if err != nil {
		writeError(w, r, err)
		return
	}
	b, err := s.Accounts.BindKey(r.Context(), principalFrom(r.Context()), userID, orgID, m)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if userID != "" {
		created(w, "/api/v1/users/"+userID+"/keys", b)
		return
	}
	created(w, "/api/v1/organizations/"+orgID, b)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Keys(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": list})
}
