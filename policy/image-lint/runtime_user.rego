# METADATA
# title: "The runtime user can be looked up"
# description: "CIS Docker Benchmark 4.1: the image runs as a dedicated user. That user (and its group) must be listed in /etc/passwd (and /etc/group), or programs that look up the current user (getpwuid: Java, Python's getpass, ssh clients, glibc's NSS) fail or misbehave."
# scope: package
# custom:
#   id: GIL-0001
#   avd_id: GIL-0001
#   severity: MEDIUM
#   short_code: runtime-user-listed
#   recommended_action: "Add the runtime user to /etc/passwd and its group to /etc/group (scratch images: copy minimal files in)"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0001

import data.lib.imagelint
import rego.v1

parts := split(imagelint.user, ":")

listed(file, id) if {
	some fields in imagelint.entries(file)
	count(fields) >= 3
	id in {fields[0], fields[2]}
}

deny contains res if {
	imagelint.user == ""
	res := result.new("the image config sets no User: it runs as root", {})
}

deny contains res if {
	imagelint.user != ""
	not listed("passwd", parts[0])
	res := result.new(sprintf("runtime user %q is not listed in /etc/passwd%s", [parts[0], absent("passwd")]), {})
}

deny contains res if {
	count(parts) > 1
	not listed("group", parts[1])
	res := result.new(sprintf("runtime group %q is not listed in /etc/group%s", [parts[1], absent("group")]), {})
}

absent(file) := " (the image has no such file)" if {
	not input.etc[file]
} else := ""
