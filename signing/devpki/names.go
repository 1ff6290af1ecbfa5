package devpki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

var (
	oidTitle          = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidUID            = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidEKU            = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidOCSPNoCheck    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	// oidDevTSAPolicy is the dev TSA's policy: a private arc, meaning only
	// "development timestamps, no assurance".
	oidDevTSAPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2, 1}
)

func caName(cn string) pkix.Name {
	return pkix.Name{
		Country:      []string{"VN"},
		Organization: []string{caOrgName},
		CommonName:   cn,
	}
}

// personName follows the shape of Vietnamese signing certificates: the
// person's name as CN, title, unit and organisation, province, and an
// identity number in UID (CCCD for people, the budget-unit code for bodies).
func personName(p subject) pkix.Name {
	n := pkix.Name{
		Country:      []string{"VN"},
		Province:     []string{province},
		Organization: []string{orgName},
		CommonName:   p.cn,
	}
	if p.ou != "" {
		n.OrganizationalUnit = []string{p.ou}
	}
	if p.title != "" {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oidTitle, Value: p.title})
	}
	if p.uid != "" {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oidUID, Value: p.uid})
	}
	return n
}

func criticalEKU(oids ...asn1.ObjectIdentifier) pkix.Extension {
	v, err := asn1.Marshal(oids)
	if err != nil {
		// Marshalling a slice of valid OIDs cannot fail; an empty value
		// would make CreateCertificate fail loudly rather than silently.
		v = nil
	}
	return pkix.Extension{Id: oidEKU, Critical: true, Value: v}
}

func ocspNoCheck() pkix.Extension {
	return pkix.Extension{Id: oidOCSPNoCheck, Value: asn1.NullBytes}
}
