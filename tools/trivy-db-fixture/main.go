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
	"io"
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
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	releasePattern = regexp.MustCompile(`^[0-9]+$`)
	// a Debian version: [epoch:]upstream[-revision], upstream starting with a digit
	versionPattern = regexp.MustCompile(`^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~]*(?:-[A-Za-z0-9.+~]+)*$`)
	severities     = map[string]types.Severity{"LOW": types.SeverityLow, "MEDIUM": types.SeverityMedium, "HIGH": types.SeverityHigh, "CRITICAL": types.SeverityCritical}
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: "+format+"\n", args...)
	os.Exit(code)
}

// readAdvisories reads and checks the advisory list; anything wrong ends the program with exit 2.
func readAdvisories(path string) []advisory {
	raw, err := os.ReadFile(path)
	if err != nil {
		fail(2, "cannot read %s: %v", path, err)
	}
	var doc struct {
		Advisories *[]advisory `json:"advisories"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		fail(2, "%s is not an advisory list: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		fail(2, "%s is not an advisory list: more than one JSON value", path)
	}
	if doc.Advisories == nil || len(*doc.Advisories) == 0 {
		fail(2, "%s lists no advisories (expected {\"advisories\": [...]})", path)
	}
	advisories := *doc.Advisories
	seen := map[string]int{}
	byID := map[string]int{}
	for i, a := range advisories {
		switch {
		case !idPattern.MatchString(a.ID):
			fail(2, "advisories[%d].id %q is not a vulnerability id such as CVE-2099-0001", i, a.ID)
		case a.Distro != "debian":
			fail(2, "advisories[%d].distro %q: only debian is supported", i, a.Distro)
		case !releasePattern.MatchString(a.Release):
			fail(2, "advisories[%d].release %q is not a Debian release number such as 12", i, a.Release)
		case !namePattern.MatchString(a.Package):
			fail(2, "advisories[%d].package %q is not a Debian source package name", i, a.Package)
		case !versionPattern.MatchString(a.FixedVersion):
			fail(2, "advisories[%d].fixedVersion %q is not a Debian version such as 1.0-2", i, a.FixedVersion)
		case severities[a.Severity] == types.SeverityUnknown:
			fail(2, "advisories[%d].severity %q is not LOW, MEDIUM, HIGH or CRITICAL", i, a.Severity)
		}
		key := a.ID + " " + a.Release + " " + a.Package
		if j, dup := seen[key]; dup {
			fail(2, "advisories[%d] repeats advisories[%d] (%s for %s in debian %s)", i, j, a.ID, a.Package, a.Release)
		}
		seen[key] = i
		// Trivy keeps one severity and description per vulnerability id.
		if j, ok := byID[a.ID]; ok && (advisories[j].Severity != a.Severity || advisories[j].Description != a.Description) {
			fail(2, "advisories[%d] and advisories[%d] give %s different severities or descriptions", j, i, a.ID)
		} else if !ok {
			byID[a.ID] = i
		}
	}
	return advisories
}

func main() {
	in := flag.String("in", "", "advisories JSON file")
	out := flag.String("out", "", "Trivy cache directory to write (DIR/db/...)")
	built := flag.String("built", "2026-01-01T00:00:00Z", "update time recorded in the metadata (RFC 3339)")
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() > 0 {
		fail(2, "usage: trivy-db-fixture -in advisories.json -out DIR [-built 2026-01-01T00:00:00Z]")
	}
	updated, err := time.Parse(time.RFC3339, *built)
	if err != nil {
		fail(2, "-built %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", *built)
	}
	updated = updated.UTC()
	advisories := readAdvisories(*in)

	dbDir := filepath.Join(*out, "db")
	if err := os.RemoveAll(dbDir); err != nil {
		fail(1, "%v", err)
	}
	if err := db.Init(dbDir); err != nil {
		fail(1, "creating the database: %v", err)
	}
	dbc := db.Config{}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, a := range advisories {
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
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: %d advisories -> %s\n", len(advisories), dbDir)
}
