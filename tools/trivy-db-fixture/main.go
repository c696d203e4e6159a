// trivy-db-fixture builds a Trivy vulnerability database (schema 2) from a small JSON list of
// advisories, with trivy-db's own writer, laid out as Trivy's cache directory expects
// (DIR/db/trivy.db and DIR/db/metadata.json), so `trivy image --cache-dir DIR --skip-db-update
// --offline-scan` scans against it with nothing downloaded.
//
// usage: trivy-db-fixture -in advisories.json -out DIR [-built 2026-01-01T00:00:00Z]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

type advisory struct {
	ID           string `json:"id"`
	Distro       string `json:"distro"`
	Release      string `json:"release"`
	Package      string `json:"package"`
	FixedVersion string `json:"fixedVersion"`
	Severity     string `json:"severity"`
	Description  string `json:"description"`
}

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*$`)
	releasePattern = regexp.MustCompile(`^[0-9]+$`)
	severities     = map[string]types.Severity{"LOW": types.SeverityLow, "MEDIUM": types.SeverityMedium, "HIGH": types.SeverityHigh, "CRITICAL": types.SeverityCritical}
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	in := flag.String("in", "", "advisories JSON file")
	out := flag.String("out", "", "Trivy cache directory to write (DIR/db/...)")
	built := flag.String("built", "2026-01-01T00:00:00Z", "update time recorded in the metadata (RFC 3339)")
	flag.Parse()
	if *in == "" || *out == "" {
		fail(2, "usage: trivy-db-fixture -in advisories.json -out DIR")
	}
	updated, err := time.Parse(time.RFC3339, *built)
	if err != nil {
		fail(2, "-built %q is not an RFC 3339 time: %v", *built, err)
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		fail(2, "cannot read %s: %v", *in, err)
	}
	var doc struct {
		Advisories []advisory `json:"advisories"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		fail(2, "%s is not an advisory list: %v", *in, err)
	}
	if len(doc.Advisories) == 0 {
		fail(2, "%s lists no advisories", *in)
	}
	for i, a := range doc.Advisories {
		switch {
		case !idPattern.MatchString(a.ID):
			fail(2, "advisories[%d].id %q is not a vulnerability id", i, a.ID)
		case a.Distro != "debian":
			fail(2, "advisories[%d].distro %q: only debian is supported", i, a.Distro)
		case !releasePattern.MatchString(a.Release):
			fail(2, "advisories[%d].release %q is not a Debian release number such as 12", i, a.Release)
		case !namePattern.MatchString(a.Package):
			fail(2, "advisories[%d].package %q is not a Debian source package name", i, a.Package)
		case a.FixedVersion == "":
			fail(2, "advisories[%d].fixedVersion is empty", i)
		case severities[a.Severity] == types.SeverityUnknown:
			fail(2, "advisories[%d].severity %q is not LOW, MEDIUM, HIGH or CRITICAL", i, a.Severity)
		}
	}

	dbDir := filepath.Join(*out, "db")
	if err := os.RemoveAll(dbDir); err != nil {
		fail(1, "%v", err)
	}
	if err := db.Init(dbDir); err != nil {
		fail(1, "creating the database: %v", err)
	}
	dbc := db.Config{}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, a := range doc.Advisories {
			platform := fmt.Sprintf("debian %s", a.Release)
			if err := dbc.PutDataSource(tx, platform, types.DataSource{ID: vulnerability.Debian, Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}); err != nil {
				return err
			}
			// Debian advisories are keyed by the source package name.
			if err := dbc.PutAdvisory(tx, []string{platform, a.Package}, a.ID, types.Advisory{FixedVersion: a.FixedVersion}); err != nil {
				return err
			}
			sev := severities[a.Severity]
			if err := dbc.PutVulnerability(tx, a.ID, types.Vulnerability{
				Title:          a.ID,
				Description:    a.Description,
				Severity:       sev.String(),
				VendorSeverity: types.VendorSeverity{vulnerability.Debian: sev},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail(1, "writing advisories: %v", err)
	}
	if err := db.Close(); err != nil {
		fail(1, "closing the database: %v", err)
	}
	meta := metadata.Metadata{Version: db.SchemaVersion, NextUpdate: updated.AddDate(100, 0, 0), UpdatedAt: updated, DownloadedAt: updated}
	if err := metadata.NewClient(dbDir).Update(meta); err != nil {
		fail(1, "writing the metadata: %v", err)
	}
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: %d advisories -> %s\n", len(doc.Advisories), dbDir)
}
