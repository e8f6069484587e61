// Package sbom writes SPDX 2.3 software bills of materials for Go binaries
// from the build information the Go toolchain embeds in them (the main
// module, every dependency module with its version and go.sum hash, the Go
// version and build settings) — no outside tool.
package sbom

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Document is the SPDX 2.3 JSON document (the fields this package writes).
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	Packages          []Package      `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

// CreationInfo says who made the document and when.
type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

// Package is one SPDX package: the binary, a Go module, the Go standard
// library or a file set such as a CA bundle.
type Package struct {
	SPDXID           string        `json:"SPDXID"`
	Name             string        `json:"name"`
	VersionInfo      string        `json:"versionInfo,omitempty"`
	PackageFileName  string        `json:"packageFileName,omitempty"`
	DownloadLocation string        `json:"downloadLocation"`
	FilesAnalyzed    bool          `json:"filesAnalyzed"`
	LicenseDeclared  string        `json:"licenseDeclared"`
	Supplier         string        `json:"supplier,omitempty"`
	Checksums        []Checksum    `json:"checksums,omitempty"`
	ExternalRefs     []ExternalRef `json:"externalRefs,omitempty"`
	Comment          string        `json:"comment,omitempty"`
}

// Checksum of a package.
type Checksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

// ExternalRef is a package URL (purl).
type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

// Relationship between two elements.
type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// Options describe the binary beyond its build information.
type Options struct {
	// Version of the main module (release builds are not module-versioned).
	Version string
	// Ours are module path prefixes built from this repository at Version
	// (the workspace records them as "(devel)" or replaced by a directory).
	Ours string
	// License declared for our modules (SPDX identifier).
	License string
	// Source is the download location of our modules.
	Source string
	// Created is the document's creation time (the commit time, for
	// reproducible output).
	Created time.Time
}

// ForBinary returns the SBOM of the Go binary at path.
func ForBinary(path string, o Options) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sbom: %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	name := filepath.Base(path)
	doc := &Document{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              name,
		DocumentNamespace: o.Source + "/spdx/" + name + "-" + o.Version + "-" + hex.EncodeToString(sum[:8]),
		CreationInfo:      CreationInfo{Created: o.Created.UTC().Format(time.RFC3339), Creators: []string{"Tool: fedtoken-release"}},
	}
	var settings []string
	for _, s := range bi.Settings {
		if s.Key == "GOOS" || s.Key == "GOARCH" || s.Key == "CGO_ENABLED" || s.Key == "-trimpath" {
			settings = append(settings, s.Key+"="+s.Value)
		}
	}
	main := Package{
		SPDXID:           "SPDXRef-Package-binary",
		Name:             bi.Path,
		VersionInfo:      o.Version,
		PackageFileName:  name,
		DownloadLocation: o.Source,
		LicenseDeclared:  o.License,
		Supplier:         "Organization: fedtoken",
		Checksums:        []Checksum{{"SHA256", hex.EncodeToString(sum[:])}},
		ExternalRefs:     []ExternalRef{purl(bi.Main.Path, o.Version)},
		Comment:          "Go binary built with " + bi.GoVersion + " (" + strings.Join(settings, ", ") + ")",
	}
	doc.Packages = append(doc.Packages, main)
	doc.Relationships = append(doc.Relationships, Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", main.SPDXID})
	std := Package{
		SPDXID: "SPDXRef-Package-go-stdlib", Name: "stdlib", VersionInfo: bi.GoVersion,
		DownloadLocation: "https://go.dev/dl/", LicenseDeclared: "BSD-3-Clause",
		ExternalRefs: []ExternalRef{purl("stdlib", bi.GoVersion)},
	}
	doc.Packages = append(doc.Packages, std)
	doc.Relationships = append(doc.Relationships, Relationship{main.SPDXID, "DEPENDS_ON", std.SPDXID})
	for _, d := range bi.Deps {
		path, version, sum := d.Path, d.Version, d.Sum
		if d.Replace != nil && !isLocal(d.Replace.Path) {
			path, version, sum = d.Replace.Path, d.Replace.Version, d.Replace.Sum
		}
		p := Package{
			SPDXID:           "SPDXRef-Package-" + spdxID(path),
			Name:             path,
			VersionInfo:      version,
			DownloadLocation: "https://proxy.golang.org/" + strings.ToLower(path) + "/@v/" + version + ".zip",
			LicenseDeclared:  "NOASSERTION",
			ExternalRefs:     []ExternalRef{purl(path, version)},
		}
		if sum != "" {
			p.Comment = "go.sum " + sum
		}
		if o.Ours != "" && strings.HasPrefix(path, o.Ours) {
			p.VersionInfo, p.DownloadLocation, p.LicenseDeclared = o.Version, o.Source, o.License
			p.ExternalRefs = []ExternalRef{purl(path, o.Version)}
			p.Comment = "built from the same commit as the binary"
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, Relationship{main.SPDXID, "DEPENDS_ON", p.SPDXID})
	}
	return doc, nil
}

// AddFile adds a file of an image (e.g. the CA bundle) as a package the
// image contains.
func (d *Document) AddFile(id, name, version string, data []byte, comment string) {
	sum := sha256.Sum256(data)
	p := Package{
		SPDXID: "SPDXRef-Package-" + spdxID(id), Name: name, VersionInfo: version,
		DownloadLocation: "NOASSERTION", LicenseDeclared: "NOASSERTION",
		Checksums: []Checksum{{"SHA256", hex.EncodeToString(sum[:])}}, Comment: comment,
	}
	d.Packages = append(d.Packages, p)
	d.Relationships = append(d.Relationships, Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", p.SPDXID})
}

// Write writes the document as indented JSON.
func (d *Document) Write(path string) error {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	return nil
}

// Read reads a document Write wrote.
func Read(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("sbom: %s: %w", path, err)
	}
	if d.SPDXVersion != "SPDX-2.3" || len(d.Packages) == 0 {
		return nil, fmt.Errorf("sbom: %s: not an SPDX 2.3 document with packages", path)
	}
	return &d, nil
}

// Package returns the package named name, or nil.
func (d *Document) Package(name string) *Package {
	for i := range d.Packages {
		if d.Packages[i].Name == name {
			return &d.Packages[i]
		}
	}
	return nil
}

func purl(path, version string) ExternalRef {
	return ExternalRef{"PACKAGE-MANAGER", "purl", "pkg:golang/" + path + "@" + version}
}

func isLocal(p string) bool {
	return strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || filepath.IsAbs(p)
}

var notID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxID makes an SPDX identifier from a module path.
func spdxID(s string) string { return notID.ReplaceAllString(s, "-") }
