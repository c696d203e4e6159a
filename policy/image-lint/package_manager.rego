# METADATA
# title: "No package manager in the image"
# description: "CIS Docker Benchmark 4.3 (no unnecessary software): a package manager lets an attacker install tools inside a running container. The package databases may stay for scanners; the programs must go."
# scope: package
# custom:
#   id: GIL-0003
#   avd_id: GIL-0003
#   severity: HIGH
#   short_code: no-package-manager
#   recommended_action: "Use a runtime flavor without a package manager (distroless, scratch) or strict hardening"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0003

import data.lib.imagelint
import rego.v1

managers := {"apt", "apt-get", "apt-cache", "aptitude", "dpkg", "dpkg-deb", "apk", "rpm", "yum", "dnf", "microdnf", "zypper"}

deny contains res if {
	some path in imagelint.programs(managers)
	res := result.new(sprintf("package manager %s is present", [path]), {})
}
