# Helpers shared by the image-lint checks. Their input is one document per image and platform,
# written by test/integration/helpers/image-lint.ts: the image's OCI config (as Trivy read it
# from the registry) and every entry of its `docker export` (path, type, mode with the
# setuid/setgid bits, uid, gid) plus the text of /etc/passwd and /etc/group.
package lib.imagelint

import rego.v1

# Directories a program is run from by name.
bin_dirs := {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}

# Entries (regular files, hard links, symbolic links) at `dir/name` for a name in `names`.
programs(names) := {f.path |
	some f in input.files
	f.type in {"file", "hardlink", "symlink"}
	some dir in bin_dirs
	some name in names
	f.path == concat("/", [dir, name])
}

labels := object.get(input, ["config", "config", "Labels"], {})

user := object.get(input, ["config", "config", "User"], "")

# The lines of /etc/passwd or /etc/group, split into fields; [] when the file is absent.
entries(file) := [fields |
	some line in split(object.get(input, ["etc", file], ""), "\n")
	line != ""
	not startswith(line, "#")
	fields := split(line, ":")
]
