/**
 * The benchmark's breakdown of a static image's overhead: every file lands in exactly one group,
 * the sums add up, largest first.
 */
import { overheadBreakdown } from "../../bench/build-bench";

it("GIVEN a static image's files THEN the overhead is grouped by what it is for, largest first, nothing lost", () => {
  const files = [
    { path: "etc/ssl/certs/ca-certificates.crt", bytes: 222073 },
    { path: "usr/share/common-licenses/GPL-3", bytes: 35149 },
    { path: "usr/share/common-licenses/GPL-2", bytes: 18092 },
    { path: "usr/share/doc/ca-certificates/copyright", bytes: 18940 },
    { path: "etc/services", bytes: 12813 },
    { path: "etc/passwd", bytes: 120 },
    { path: "var/lib/dpkg/status.d/netbase", bytes: 600 },
    { path: "usr/lib/os-release", bytes: 267 },
  ];
  const groups = overheadBreakdown(files);
  expect(groups.map((g) => [g.what.split(" (")[0], g.files, g.bytes])).toEqual([
    ["CA certificates", 1, 222073],
    ["license texts", 2, 53241],
    ["copyright notices", 1, 18940],
    ["/etc", 2, 12933],
    ["package records for scanners", 1, 600],
    ["other", 1, 267],
  ]);
  expect(groups.reduce((n, g) => n + g.bytes, 0)).toBe(files.reduce((n, f) => n + f.bytes, 0));
});
