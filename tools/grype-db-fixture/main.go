// grype-db-fixture builds a Grype vulnerability database (schema 6) from a small JSON list of
// advisories, with Grype's own database builder, and writes it as an archive that
// `grype db import` accepts. It lets the tests and the offline main job scan against a known
// database with nothing downloaded.
//
// usage: grype-db-fixture -in advisories.json -out db.tar.gz [-built 2026-01-01T00:00:00Z]
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/OneOfOne/xxhash"
	"github.com/spf13/afero"

	"github.com/anchore/grype/grype/db"
	"github.com/anchore/grype/grype/db/provider"
	grypeDB "github.com/anchore/grype/grype/db/v6"
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
	severities     = map[string]string{"LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "CRITICAL": "Critical"}
)

var workDir string

func fail(code int, format string, args ...any) {
	if workDir != "" {
		_ = os.RemoveAll(workDir)
	}
	fmt.Fprintf(os.Stderr, "grype-db-fixture: "+format+"\n", args...)
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
		case severities[a.Severity] == "":
			fail(2, "advisories[%d].severity %q is not LOW, MEDIUM, HIGH or CRITICAL", i, a.Severity)
		}
		key := a.ID + " " + a.Release + " " + a.Package
		if j, dup := seen[key]; dup {
			fail(2, "advisories[%d] repeats advisories[%d] (%s for %s in debian %s)", i, j, a.ID, a.Package, a.Release)
		}
		seen[key] = i
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
	out := flag.String("out", "", "archive to write (.tar.gz)")
	built := flag.String("built", "2026-01-01T00:00:00Z", "build time recorded in the database (RFC 3339)")
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() > 0 {
		fail(2, "usage: grype-db-fixture -in advisories.json -out db.tar.gz [-built 2026-01-01T00:00:00Z]")
	}
	buildTime, err := time.Parse(time.RFC3339, *built)
	if err != nil {
		fail(2, "-built %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", *built)
	}
	buildTime = buildTime.UTC().Round(time.Second)
	advisories := readAdvisories(*in)

	workDir, err = os.MkdirTemp("", "grype-db-fixture-")
	if err != nil {
		fail(1, "%v", err)
	}
	defer os.RemoveAll(workDir)
	providerDir := filepath.Join(workDir, "input", "debian")

	// One vunnel OS record per (release, vulnerability), listing every source package it names
	// (vunnel's Debian provider writes them the same way).
	type recordKey struct{ release, id string }
	records := map[recordKey][]advisory{}
	var keys []recordKey
	for _, a := range advisories {
		k := recordKey{a.Release, a.ID}
		if _, ok := records[k]; !ok {
			keys = append(keys, k)
		}
		records[k] = append(records[k], a)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].release != keys[j].release {
			return keys[i].release < keys[j].release
		}
		return keys[i].id < keys[j].id
	})
	var checksums bytes.Buffer
	for _, k := range keys {
		group := records[k]
		sort.Slice(group, func(i, j int) bool { return group[i].Package < group[j].Package })
		ns := "debian:" + k.release
		var fixedIn []any
		for _, a := range group {
			fixedIn = append(fixedIn, map[string]any{
				"Name":           a.Package,
				"NamespaceName":  ns,
				"VendorAdvisory": map[string]any{"AdvisorySummary": []any{}, "NoAdvisory": false},
				"Version":        a.FixedVersion,
				"VersionFormat":  "dpkg",
			})
		}
		record := map[string]any{
			"identifier": ns + "/" + strings.ToLower(k.id),
			"schema":     "https://raw.githubusercontent.com/anchore/vunnel/main/schema/vulnerability/os/schema-1.1.0.json",
			"item": map[string]any{
				"Vulnerability": map[string]any{
					"CVSS":          []any{},
					"Description":   group[0].Description,
					"FixedIn":       fixedIn,
					"Link":          "",
					"Metadata":      map[string]any{},
					"Name":          k.id,
					"NamespaceName": ns,
					"Severity":      severities[group[0].Severity],
				},
			},
		}
		content, _ := json.MarshalIndent(record, "", "  ")
		rel := filepath.Join("results", "debian-"+k.release, strings.ToLower(k.id)+".json")
		if err := os.MkdirAll(filepath.Dir(filepath.Join(providerDir, rel)), 0o755); err != nil {
			fail(1, "%v", err)
		}
		if err := os.WriteFile(filepath.Join(providerDir, rel), content, 0o644); err != nil {
			fail(1, "%v", err)
		}
		fmt.Fprintf(&checksums, "%s  %s\n", xxh64(content), rel)
	}
	if err := os.WriteFile(filepath.Join(providerDir, "checksums"), checksums.Bytes(), 0o644); err != nil {
		fail(1, "%v", err)
	}
	metadata := map[string]any{
		"provider":             "debian",
		"urls":                 []string{"https://security-tracker.debian.org"},
		"store":                "flat-file",
		"timestamp":            buildTime.Format(time.RFC3339),
		"version":              1,
		"distribution_version": 1,
		"processor":            "vunnel@0.54.0",
		"listing":              map[string]any{"digest": xxh64(checksums.Bytes()), "path": "checksums", "algorithm": "xxh64"},
		"schema": map[string]any{
			"version": "1.0.3",
			"url":     "https://raw.githubusercontent.com/anchore/vunnel/main/schema/provider-workspace-state/schema-1.0.3.json",
		},
		"stale": false,
	}
	meta, _ := json.MarshalIndent(metadata, "", "  ")
	if err := os.WriteFile(filepath.Join(providerDir, "metadata.json"), meta, 0o644); err != nil {
		fail(1, "%v", err)
	}
	state, err := provider.ReadState(filepath.Join(providerDir, "metadata.json"))
	if err != nil {
		fail(1, "reading the provider state: %v", err)
	}
	buildDir := filepath.Join(workDir, "build")
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		fail(1, "%v", err)
	}
	err = db.Build(db.BuildConfig{
		SchemaVersion: 6,
		Directory:     buildDir,
		States:        provider.States{*state},
		Timestamp:     buildTime,
		Hydrate:       false, // done below, after the build time is fixed
		BatchSize:     100,
	})
	if err != nil {
		fail(1, "building the database: %v", err)
	}
	// The v6 writer records time.Now() as the build time whatever BuildConfig.Timestamp says:
	// replace it with -built, then hydrate and write import.json as db.Build does with Hydrate.
	if err := setBuildTime(buildDir, buildTime); err != nil {
		fail(1, "setting the build time: %v", err)
	}
	if err := grypeDB.Hydrater()(buildDir); err != nil {
		fail(1, "hydrating the database: %v", err)
	}
	if _, err := grypeDB.WriteImportMetadata(afero.NewOsFs(), buildDir, "grype db build"); err != nil {
		fail(1, "writing import.json: %v", err)
	}
	if err := writeArchive(*out, buildDir, []string{grypeDB.VulnerabilityDBFileName, grypeDB.ImportMetadataFileName}, buildTime); err != nil {
		fail(1, "writing %s: %v", *out, err)
	}
	fmt.Fprintf(os.Stderr, "grype-db-fixture: %d advisories -> %s\n", len(advisories), *out)
}

func setBuildTime(dir string, t time.Time) error {
	gdb, err := grypeDB.NewLowLevelDB(filepath.Join(dir, grypeDB.VulnerabilityDBFileName), false, true, false)
	if err != nil {
		return err
	}
	ts := t.UTC().Round(time.Second)
	res := gdb.Model(&grypeDB.DBMetadata{}).Where("true").Update("build_timestamp", &ts)
	if res.Error == nil && res.RowsAffected != 1 {
		res.Error = fmt.Errorf("%d metadata rows updated, expected 1", res.RowsAffected)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	if cerr := sqlDB.Close(); res.Error == nil {
		return cerr
	}
	return res.Error
}

func xxh64(content []byte) string {
	h := xxhash.New64()
	_, _ = h.Write(content)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func writeArchive(out, dir string, names []string, mtime time.Time) (err error) {
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(out + ".tmp")
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(content); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}
