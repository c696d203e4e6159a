# METADATA
# title: "Base image labels: name and digest"
# description: "CIS Docker Benchmark 4.2 (trusted base images): an image names its base and the base's digest (OCI labels org.opencontainers.image.base.name and .base.digest), so a vulnerable or untrusted base can be found in every image built on it."
# scope: package
# custom:
#   id: GIL-0006
#   avd_id: GIL-0006
#   severity: MEDIUM
#   short_code: base-image-labels
#   recommended_action: "Set org.opencontainers.image.base.name and org.opencontainers.image.base.digest to the pinned base"
#   input:
#     selector:
#     - type: json
package user.imagelint.GIL0006

import data.lib.imagelint
import rego.v1

required := ["org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"]

deny contains res if {
	some label in required
	object.get(imagelint.labels, label, "") == ""
	res := result.new(sprintf("label %s is missing", [label]), {})
}
