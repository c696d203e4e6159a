# METADATA
# title: "Provenance labels: source and revision"
# description: "CIS Docker Benchmark 4.2 (trusted content): an image says where it was built from, with the OCI labels org.opencontainers.image.source and org.opencontainers.image.revision, so a running image can be traced to its code."
# scope: package
# custom:
#   id: GIL-0005
#   avd_id: GIL-0005
#   severity: MEDIUM
#   short_code: provenance-labels
#   recommended_action: "Set the source URL and the commit (org.opencontainers.image.source, .revision)"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0005

import data.lib.imagelint
import rego.v1

required := ["org.opencontainers.image.source", "org.opencontainers.image.revision"]

deny contains res if {
	some label in required
	object.get(imagelint.labels, label, "") == ""
	res := result.new(sprintf("label %s is missing", [label]), {})
}
