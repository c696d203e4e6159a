# METADATA
# title: "No shell in the image"
# description: "CIS Docker Benchmark 4.3 (no unnecessary software): a shell lets anyone who gets code execution in the container run arbitrary commands. Hardened runtimes have none."
# scope: package
# custom:
#   id: GIL-0002
#   avd_id: GIL-0002
#   severity: HIGH
#   short_code: no-shell
#   recommended_action: "Use a runtime flavor without a shell (distroless, scratch) or strict hardening"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0002

import data.lib.imagelint
import rego.v1

shells := {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox"}

deny contains res if {
	some path in imagelint.programs(shells)
	res := result.new(sprintf("shell %s is present", [path]), {})
}
