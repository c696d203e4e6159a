/**
 * Image references: the distribution grammar the renderer writes into FROM lines and the
 * mirror prefixing that keeps builds off public registries.
 */
import { formatReference, ImageReference, parseReference, referenceProblem, repositoryOf, resolveThroughMirror } from "../../components/spec/reference";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const PATH_PROBLEM = (path: string) => `repository path "${path}" must be lowercase components of a-z0-9 separated by . _ - and /`;

describe("parseReference / formatReference", () => {
  it.each<[string, ImageReference, string]>([
    ["registry.example.test:5000/team/app:1.2@" + DIGEST, { host: "registry.example.test:5000", path: "team/app", tag: "1.2", digest: DIGEST }, "registry.example.test:5000/team/app"],
    ["localhost/app", { host: "localhost", path: "app" }, "localhost/app"],
    ["localhost:5000/team/app:dev", { host: "localhost:5000", path: "team/app", tag: "dev" }, "localhost:5000/team/app"],
    ["registry.example.org/org/app:v1.0.0", { host: "registry.example.org", path: "org/app", tag: "v1.0.0" }, "registry.example.org/org/app"],
    ["library/alpine", { path: "library/alpine" }, "library/alpine"],
    ["alpine:3.20", { path: "alpine", tag: "3.20" }, "alpine"],
    ["alpine@" + DIGEST, { path: "alpine", digest: DIGEST }, "alpine"],
    ["distroless/static-debian12:nonroot@" + DIGEST, { path: "distroless/static-debian12", tag: "nonroot", digest: DIGEST }, "distroless/static-debian12"],
    ["a/b/c/d:_x", { path: "a/b/c/d", tag: "_x" }, "a/b/c/d"],
    // Separators of the distribution grammar: `.`, `_`, `__` and runs of `-`.
    ["my_app__x/a--b.c", { path: "my_app__x/a--b.c" }, "my_app__x/a--b.c"],
    // No `.`/`:`/localhost in the first component: it is a path, not a host.
    ["team/app:1", { path: "team/app", tag: "1" }, "team/app"],
    // A lone name:port reads as name:tag, as docker does.
    ["localhost:5000", { path: "localhost", tag: "5000" }, "localhost"],
  ])("GIVEN %s WHEN parsed THEN the parts are exact and formatting gives the input back", (ref, expected, repository) => {
    // WHEN
    const parsed = parseReference(ref);
    // THEN
    expect(parsed).toStrictEqual({ host: undefined, tag: undefined, digest: undefined, ...expected });
    expect(formatReference(parsed)).toBe(ref);
    expect(repositoryOf(parsed)).toBe(repository);
    expect(referenceProblem(ref)).toBeUndefined();
  });
});

describe("parseReference rejects", () => {
  it.each<[string, string, string]>([
    ["uppercase path", "Library/Alpine:3.20", PATH_PROBLEM("Library/Alpine")],
    ["uppercase path below a host", "registry.example.org/Org/app", PATH_PROBLEM("Org/app")],
    ["empty path component", "team//app", PATH_PROBLEM("team//app")],
    ["trailing slash", "team/app/", PATH_PROBLEM("team/app/")],
    ["leading separator", "-app", PATH_PROBLEM("-app")],
    ["short digest", "alpine@sha256:abc", 'digest "sha256:abc" is not sha256:<64 lowercase hex>'],
    ["uppercase digest", `alpine@${DIGEST.toUpperCase()}`, `digest "${DIGEST.toUpperCase()}" is not sha256:<64 lowercase hex>`],
    ["other algorithm", `alpine@sha512:${"a".repeat(64)}`, `digest "sha512:${"a".repeat(64)}" is not sha256:<64 lowercase hex>`],
    ["empty tag", "alpine:", 'tag "" is not a valid tag (letters, digits, ._-; at most 128)'],
    ["tag starting with a dash", "alpine:-rc", 'tag "-rc" is not a valid tag (letters, digits, ._-; at most 128)'],
    ["tag of 129 characters", `alpine:${"t".repeat(129)}`, `tag "${"t".repeat(129)}" is not a valid tag (letters, digits, ._-; at most 128)`],
    ["host with a bad port", "registry.example.test:http/app", 'registry host "registry.example.test:http" is not a valid host[:port]'],
    ["host starting with a dash", "-registry.example.test/app", 'registry host "-registry.example.test" is not a valid host[:port]'],
    ["empty", "", "it is empty"],
    ["white space", "alpine 3.20", "it contains white space"],
    ["a line break", "alpine\nUSER 0", "it contains white space"],
    ["over 512 characters", `a/${"b".repeat(511)}`, "it is longer than 512 characters"],
  ])("GIVEN %s WHEN parsed THEN it names the problem", (_title, ref, problem) => {
    // WHEN / THEN
    expect(referenceProblem(ref)).toBe(problem);
    expect(() => parseReference(ref)).toThrow(new Error(`Invalid image reference "${ref}": ${problem}`));
  });
});

describe("resolveThroughMirror", () => {
  const MIRROR = "mirror.example.test/hub";
  it.each<[string, string, string | undefined, string]>([
    ["a host-less reference gets the prefix", "library/alpine:3.20", MIRROR, "mirror.example.test/hub/library/alpine:3.20"],
    ["a host-less pinned reference keeps tag and digest", `distroless/static-debian12:nonroot@${DIGEST}`, MIRROR, `mirror.example.test/hub/distroless/static-debian12:nonroot@${DIGEST}`],
    ["a reference with a host is kept", "registry.example.org/org/app:v1", MIRROR, "registry.example.org/org/app:v1"],
    ["a localhost reference is kept", "localhost:5000/app", MIRROR, "localhost:5000/app"],
    ["a trailing slash on the mirror is dropped", "alpine:3.20", "mirror.example.test/hub/", "mirror.example.test/hub/alpine:3.20"],
    ["several trailing slashes are dropped", "alpine:3.20", "mirror.example.test:5000//", "mirror.example.test:5000/alpine:3.20"],
    ["no mirror leaves it alone", "alpine:3.20", undefined, "alpine:3.20"],
    ["an empty mirror leaves it alone", "alpine:3.20", "", "alpine:3.20"],
  ])("GIVEN %s WHEN resolved THEN the reference is exact", (_title, ref, mirror, expected) => {
    // WHEN
    const resolved = resolveThroughMirror(ref, mirror);
    // THEN
    expect(resolved).toBe(expected);
    expect(referenceProblem(resolved)).toBeUndefined();
  });

  it("GIVEN a malformed reference WHEN resolved THEN it throws the parse error", () => {
    // WHEN / THEN
    expect(() => resolveThroughMirror("Alpine", MIRROR)).toThrow(new Error(`Invalid image reference "Alpine": ${PATH_PROBLEM("Alpine")}`));
  });
});
