#!/usr/bin/env bash
# The supply-chain tools of the pipeline at their pinned versions (cosign, Syft, Grype, Trivy:
# scripts/install-release-tool.sh uses a matching one on PATH, else builds it once) and an
# offline vulnerability database for the scanners. Prints `export` lines on stdout:
#   eval "$(bash scripts/supply-chain.sh)"
#
# The database: with GOLDEN_VULNDB=offline (the default here, where no vulnerability feed can be
# reached) both scanners read a database built by this project's tools/*-db-fixture programs from
# an advisory file (default scripts/vulndb/offline.json; GOLDEN_VULNDB_ADVISORIES overrides), with
# updates switched off. With GOLDEN_VULNDB=online nothing is exported for the database and each
# scanner downloads and updates its own, as it does for any user.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode="${GOLDEN_VULNDB:-offline}"
advisories="${GOLDEN_VULNDB_ADVISORIES:-$GOLDEN_SCRIPTS_DIR/vulndb/offline.json}"
scanners="${GOLDEN_SCANNERS:-grype trivy}"

tool() { bash "$GOLDEN_SCRIPTS_DIR/install-release-tool.sh" "$1" | tail -n 1; }

cosign="$(tool cosign)"
syft="$(tool syft)"
printf 'export GOLDEN_COSIGN=%q GOLDEN_SYFT=%q\n' "$cosign" "$syft"
printf 'export SYFT_CHECK_FOR_APP_UPDATE=false GRYPE_CHECK_FOR_APP_UPDATE=false\n'

for scanner in $scanners; do
  case "$scanner" in
    grype | trivy) ;;
    *) die "GOLDEN_SCANNERS lists '$scanner' - use grype and/or trivy" ;;
  esac
  bin="$(tool "$scanner")"
  printf 'export GOLDEN_%s=%q\n' "$(printf '%s' "$scanner" | tr '[:lower:]' '[:upper:]')" "$bin"
  [[ "$mode" == offline ]] || continue
  [[ -s "$advisories" ]] || die "no advisory file $advisories - set GOLDEN_VULNDB_ADVISORIES to a JSON file of advisories (see scripts/vulndb/offline.json)"
  builder="$(bash "$GOLDEN_SCRIPTS_DIR/install-go-tool.sh" "$scanner-db-fixture" | tail -n 1)"
  key="$( (sha256sum <"$advisories"; sha256sum <"$builder"; sha256sum <"$bin") | sha256sum | cut -c1-16)"
  db="$GOLDEN_STATE_DIR/vulndb/$scanner-$key"
  if [[ ! -e "$db/.complete" ]]; then
    log "building the offline $scanner database from $advisories into $db"
    rm -rf "$db" && mkdir -p "$db"
    if [[ "$scanner" == grype ]]; then
      "$builder" -in "$advisories" -out "$db/db.tar.gz" >&2 || die "building the offline grype database failed (messages above)"
      GRYPE_DB_CACHE_DIR="$db" GRYPE_DB_AUTO_UPDATE=false GRYPE_DB_VALIDATE_AGE=false GRYPE_CHECK_FOR_APP_UPDATE=false \
        "$bin" db import "$db/db.tar.gz" >&2 || die "grype db import of the offline database failed (messages above)"
    else
      "$builder" -in "$advisories" -out "$db" >&2 || die "building the offline trivy database failed (messages above)"
    fi
    touch "$db/.complete"
  fi
  if [[ "$scanner" == grype ]]; then
    printf 'export GRYPE_DB_CACHE_DIR=%q GRYPE_DB_AUTO_UPDATE=false GRYPE_DB_VALIDATE_AGE=false\n' "$db"
  else
    printf 'export TRIVY_CACHE_DIR=%q TRIVY_SKIP_DB_UPDATE=true TRIVY_SKIP_JAVA_DB_UPDATE=true TRIVY_OFFLINE_SCAN=true TRIVY_DISABLE_VEX_NOTICE=true\n' "$db"
  fi
done
