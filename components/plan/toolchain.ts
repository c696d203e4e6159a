/**
 * The pinned toolchain of the remote executors: each Go tool by module, version and the module's
 * checksum (`h1:`, the SHA-256 based hash the Go checksum database publishes). The install script
 * downloads the module from the Go module proxy, refuses it unless its checksum equals the pin,
 * and builds it there: no binary of unknown origin, and the same versions `scripts/install-*.sh`
 * build on a developer's machine (a test keeps the two in step and checks every sum against the
 * module proxy).
 */
import { shellQuote } from "./script";
import { ToolName } from "./types";

export interface GoTool {
  readonly module: string;
  readonly version: string;
  /** `go mod download -json` reports it as `Sum`; the Go checksum database vouches for it. */
  readonly sum: string;
  /** Packages to build inside the module, e.g. `./cmd/cosign`. */
  readonly packages: readonly string[];
  /** Linker flags that stamp the version the tool reports. */
  readonly ldflags: string;
  /** Build environment, e.g. `GOEXPERIMENT=jsonv2`. */
  readonly env: Readonly<Record<string, string>>;
}

/** Every Go tool a plan may need; `buildkit` provides buildctl (and buildkitd, the daemon the build step talks to). */
export const GO_TOOLCHAIN = {
  buildkit: {
    module: "github.com/moby/buildkit",
    version: "v0.25.2",
    sum: "h1:mReLKDPv05cqk6o/u3ixq2/iTsWGHoUO5Zg3lojrQTk=",
    packages: ["./cmd/buildctl", "./cmd/buildkitd"],
    ldflags: "-X github.com/moby/buildkit/version.Version=v0.25.2",
    env: {},
  },
  cosign: {
    module: "github.com/sigstore/cosign/v3",
    version: "v3.1.3",
    sum: "h1:001JQRI/PJ/5T+g/kJ1KTvKFbb322+fomc+pHDZ/6sg=",
    packages: ["./cmd/cosign"],
    ldflags: "-X sigs.k8s.io/release-utils/version.gitVersion=v3.1.3",
    env: {},
  },
  syft: {
    module: "github.com/anchore/syft",
    version: "v1.57.0",
    sum: "h1:H/UHtf0KbIlD12dXsfklFMjZ2+erj2an3h/jBHoX/zE=",
    packages: ["./cmd/syft"],
    ldflags: "-X main.version=1.57.0",
    env: {},
  },
  grype: {
    module: "github.com/anchore/grype",
    version: "v0.121.2",
    sum: "h1:t8eTlmy/XSrNwjoahWG+oUod1oCLL3KL48l/qwkzUQw=",
    packages: ["./cmd/grype"],
    ldflags: "-X main.version=0.121.2",
    env: {},
  },
  trivy: {
    module: "github.com/aquasecurity/trivy",
    version: "v0.74.0",
    sum: "h1:B2/h1Aehsq/zykg0jxpWUlOX7e3UXpbxjZZs/0vNlC4=",
    packages: ["./cmd/trivy"],
    ldflags: "-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0",
    env: { GOEXPERIMENT: "jsonv2" },
  },
} as const satisfies Record<string, GoTool>;
export type GoToolName = keyof typeof GO_TOOLCHAIN;

/** Which Go tool provides a plan tool (golden comes from npm, skopeo from the OS packages). */
export const GO_TOOL_OF: Readonly<Partial<Record<ToolName, GoToolName>>> = { buildctl: "buildkit", cosign: "cosign", syft: "syft", grype: "grype", trivy: "trivy" };

/**
 * A POSIX script that installs the Go tools into `$GOLDEN_TOOLS/<name>-<version>/`, verifying each
 * module's checksum first, and puts them on PATH through `$GOLDEN_TOOLS/bin`. A cached build (the
 * executor's cache keeps `$GOLDEN_TOOLS`) costs one test per tool.
 */
export function renderToolInstallScript(tools: readonly GoToolName[]): string {
  const names = [...new Set(tools)].sort();
  const lines = [
    "set -eu",
    ': "${GOLDEN_TOOLS:?set GOLDEN_TOOLS to the tool cache directory}"',
    'mkdir -p "$GOLDEN_TOOLS/bin"',
    "# golden_go_tool NAME MODULE VERSION SUM LDFLAGS ENV PACKAGES...: build once, refuse a module whose checksum is not the pin.",
    "golden_go_tool() {",
    '  name=$1 module=$2 version=$3 sum=$4 ldflags=$5 buildenv=$6; shift 6',
    '  out="$GOLDEN_TOOLS/$name-$version"',
    '  if [ ! -f "$out/.done" ]; then',
    '    json=$(GOFLAGS=-mod=mod go mod download -json "$module@$version")',
    '    got=$(printf \'%s\\n\' "$json" | sed -n \'s/^[[:space:]]*"Sum": "\\(.*\\)",$/\\1/p\')',
    '    if [ "$got" != "$sum" ]; then echo "golden: $module@$version has checksum ${got:-none}, the pin is $sum; refusing to build it" >&2; exit 1; fi',
    '    dir=$(printf \'%s\\n\' "$json" | sed -n \'s/^[[:space:]]*"Dir": "\\(.*\\)",$/\\1/p\')',
    '    work=$(mktemp -d); cp -R "$dir" "$work/src"; chmod -R u+w "$work/src"',
    '    mkdir -p "$out"',
    '    (cd "$work/src" && env CGO_ENABLED=0 $buildenv go build -trimpath -ldflags "$ldflags" -o "$out/" "$@")',
    '    rm -rf "$work"; touch "$out/.done"',
    "  fi",
    '  for b in "$out"/*; do ln -sf "$b" "$GOLDEN_TOOLS/bin/"; done',
    "}",
  ];
  for (const name of names) {
    const t: GoTool = GO_TOOLCHAIN[name];
    const env = Object.entries(t.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    lines.push(`golden_go_tool ${[name, t.module, t.version, t.sum, t.ldflags, env, ...t.packages].map((w) => (w === "" ? "''" : shellQuote(w))).join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}
