# METADATA
# title: "No setuid or setgid files"
# description: "CIS Docker Benchmark 4.8: setuid and setgid programs run with the owner's or group's rights whoever starts them, a path to privilege escalation. A container image should have none."
# scope: package
# custom:
#   id: GIL-0004
#   avd_id: GIL-0004
#   severity: HIGH
#   short_code: no-setuid-setgid
#   recommended_action: "Strip the bits (chmod a-s) in the image, as strict hardening does"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0004

import rego.v1

setuid := 2048 # 04000

setgid := 1024 # 02000

# Regular files only, as the benchmark's audit (`docker export | tar -tv`, lines starting with -).
deny contains res if {
	some f in input.files
	f.type in {"file", "hardlink"}
	bits.and(f.mode, setuid + setgid) != 0
	res := result.new(sprintf("%s is %s (mode %s)", [f.path, kind(f.mode), mode_string(f.mode)]), {})
}

kind(mode) := "setuid and setgid" if {
	bits.and(mode, setuid) != 0
	bits.and(mode, setgid) != 0
} else := "setuid" if {
	bits.and(mode, setuid) != 0
} else := "setgid"

mode_string(mode) := sprintf("%o", [bits.and(mode, 4095)])
