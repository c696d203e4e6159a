/**
 * The source and revision labels taken from git when a spec gives none: the pure derivation from
 * git facts (remote URLs, credentials, the scp form, a dirty context), and HardenedImage applying
 * it under Pulumi mocks with a fixed reader, so the component stays deterministic in tests.
 * test/integration/source-labels.test.ts reads the facts from a real repository.
 */
import * as pulumi from "@pulumi/pulumi";
import { HardenedImage } from "../../components/image/hardened-image";
import { Registry } from "../../components/registry/registry";
import { GitFacts, sourceFromGit, webUrlOfRemote } from "../../components/spec/source";
import { ImageSpec } from "../../components/spec/types";
import { specWithGitSource } from "../../components/image/git-source";
import { settle, setupMocks, valueOf } from "./mocks";
import { helloSpec } from "./specs";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";

describe("webUrlOfRemote: the web address of origin, never a credential or a local path", () => {
  it.each([
    ["https://git.example.com/platform/golden-images.git", "https://git.example.com/platform/golden-images"],
    ["https://git.example.com/platform/golden-images", "https://git.example.com/platform/golden-images"],
    ["https://git.example.com/platform/golden-images/", "https://git.example.com/platform/golden-images"],
    ["http://git.example.internal:8080/team/repo.git", "http://git.example.internal:8080/team/repo"],
    ["HTTPS://Git.Example.COM/Team/Repo.git", "https://git.example.com/Team/Repo"],
    ["https://ci-bot:s3cr3t-t0ken@git.example.com/platform/golden-images.git", "https://git.example.com/platform/golden-images"],
    ["https://x-access-token@git.example.com/platform/golden-images.git", "https://git.example.com/platform/golden-images"],
    ["git@git.example.com:platform/golden-images.git", "https://git.example.com/platform/golden-images"],
    ["git.example.com:platform/golden-images", "https://git.example.com/platform/golden-images"],
    ["ssh://git@git.example.com:2222/platform/golden-images.git", "https://git.example.com/platform/golden-images"],
    ["https://git.example.com/group/sub/group/repo.git", "https://git.example.com/group/sub/group/repo"],
  ])("%s -> %s", (remote, url) => {
    expect(webUrlOfRemote(remote)).toBe(url);
  });

  it.each([
    ["a local path", "/srv/git/golden-images.git"],
    ["a relative path", "../golden-images"],
    ["a file URL", "file:///srv/git/golden-images.git"],
    ["the git protocol", "git://git.example.com/platform/golden-images.git"],
    ["an scp path from the home directory", "git@git.example.com:~alice/repo.git"],
    ["an scp absolute path", "git@git.example.com:/srv/repo.git"],
    ["a host only", "https://git.example.com"],
    ["a host only with a slash", "https://git.example.com/"],
    ["a query", "https://git.example.com/platform/repo.git?ref=main"],
    ["a fragment", "https://git.example.com/platform/repo#main"],
    ["blanks in the path", "https://git.example.com/platform/my repo.git"],
    ["a quote in the path", 'https://git.example.com/platform/re"po'],
    ["a parent segment", "https://git.example.com/platform/../secret"],
    ["a port out of range", "https://git.example.com:99999/platform/repo"],
    ["a host with an underscore", "https://git_example.com/platform/repo"],
    ["an empty string", ""],
  ])("%s (%s) gives no URL", (_why, remote) => {
    expect(webUrlOfRemote(remote)).toBeUndefined();
  });
});

describe("sourceFromGit: what the spec leaves out, from the checkout", () => {
  const clean: GitFacts = { remoteUrl: "git@git.example.com:platform/golden-images.git", revision: SHA, dirty: false };

  it("GIVEN nothing in the spec and a clean, committed context THEN the web URL and the context's last commit", () => {
    expect(sourceFromGit({}, clean)).toEqual({ url: "https://git.example.com/platform/golden-images", revision: SHA });
  });

  it("GIVEN a dirty context THEN no revision: the build differs from every commit", () => {
    expect(sourceFromGit({}, { ...clean, dirty: true })).toEqual({ url: "https://git.example.com/platform/golden-images" });
  });

  it("GIVEN no origin THEN no URL, and the revision all the same", () => {
    expect(sourceFromGit({}, { revision: SHA, dirty: false })).toEqual({ revision: SHA });
  });

  it("GIVEN origin is a local path THEN no URL", () => {
    expect(sourceFromGit({}, { ...clean, remoteUrl: "/srv/git/golden-images.git" })).toEqual({ revision: SHA });
  });

  it("GIVEN no git facts (no git, no repository) THEN nothing", () => {
    expect(sourceFromGit({}, undefined)).toEqual({});
  });

  it("GIVEN a context git has no commit for THEN no revision", () => {
    expect(sourceFromGit({}, { dirty: false })).toEqual({});
  });

  it("GIVEN a revision git did not write (not full hex) THEN it is not used", () => {
    expect(sourceFromGit({}, { revision: "HEAD", dirty: false })).toEqual({});
    expect(sourceFromGit({}, { revision: SHA.slice(0, 12), dirty: false })).toEqual({});
  });

  it("GIVEN values in the spec THEN they win, each on its own", () => {
    expect(sourceFromGit({ url: "https://git.example.com/other/repo", revision: OTHER }, clean)).toEqual({ url: "https://git.example.com/other/repo", revision: OTHER });
    expect(sourceFromGit({ url: "https://git.example.com/other/repo" }, clean)).toEqual({ url: "https://git.example.com/other/repo", revision: SHA });
    expect(sourceFromGit({ revision: OTHER }, { ...clean, dirty: true })).toEqual({ url: "https://git.example.com/platform/golden-images", revision: OTHER });
  });
});

describe("specWithGitSource", () => {
  it("asks git about the spec's context, and not at all when the spec names both", () => {
    const asked: string[] = [];
    const read = (context: string): GitFacts => {
      asked.push(context);
      return { revision: SHA, dirty: false };
    };
    expect(specWithGitSource(helloSpec("a"), read).source).toEqual({ revision: SHA });
    expect(specWithGitSource({ ...helloSpec("b"), context: undefined }, read).source).toEqual({ revision: SHA });
    const named: ImageSpec = { ...helloSpec("c"), source: { url: "https://git.example.com/x/y", revision: OTHER } };
    expect(specWithGitSource(named, read)).toBe(named);
    expect(asked).toEqual(["images/hello", "."]);
  });

  it("returns the same spec object when git adds nothing", () => {
    const spec = helloSpec("d");
    expect(specWithGitSource(spec, () => undefined)).toBe(spec);
  });
});

describe("HardenedImage takes the labels the spec leaves out from its source reader", () => {
  const POLICY = { environment: "prod" as const, mirror: "mirror.example.internal/hub" };
  const pinned: ImageSpec = {
    ...helloSpec("hello-label"),
    base: `distroless/static-debian12:nonroot@sha256:${"1".repeat(64)}`,
    builders: [{ ...helloSpec("x").builders![0], image: `library/gcc:12-bookworm@sha256:${"2".repeat(64)}` }],
  };
  const registry: Registry = {
    kind: "oci",
    imageNames: [pinned.name],
    repositoryUrl: () => pulumi.output("127.0.0.1:5000/golden/hello-label"),
    auth: () => ({ kind: "basic", address: pulumi.output("127.0.0.1:5000"), username: pulumi.output("u"), password: pulumi.secret("p") }),
    grant: () => {
      throw new Error("not used");
    },
    cacheRef: () => undefined,
    tagRules: { immutable: true, mutableTags: [] },
  };

  async function dockerfileOf(spec: ImageSpec, facts: GitFacts | undefined, asked: string[] = []): Promise<string> {
    setupMocks();
    const image = new HardenedImage(`label-${asked.length}-${Math.random().toString(16).slice(2, 8)}`, {
      spec,
      policy: POLICY,
      registry,
      sourceReader: (context) => {
        asked.push(context);
        return facts;
      },
    });
    const text = await valueOf(image.dockerfile);
    await settle();
    return text;
  }

  it("GIVEN a clean context and an ssh origin THEN the Dockerfile carries the web URL and the context's commit", async () => {
    const asked: string[] = [];
    const text = await dockerfileOf(pinned, { remoteUrl: "git@git.example.com:platform/golden-images.git", revision: SHA, dirty: false }, asked);
    expect(text).toContain('org.opencontainers.image.source="https://git.example.com/platform/golden-images"');
    expect(text).toContain(`org.opencontainers.image.revision="${SHA}"`);
    expect(asked).toEqual(["images/hello"]);
  });

  it("GIVEN a dirty context THEN no revision label", async () => {
    const text = await dockerfileOf(pinned, { remoteUrl: "https://git.example.com/platform/golden-images.git", revision: SHA, dirty: true });
    expect(text).toContain('org.opencontainers.image.source="https://git.example.com/platform/golden-images"');
    expect(text).not.toContain("org.opencontainers.image.revision");
  });

  it("GIVEN no repository THEN neither label, and the rest as before", async () => {
    const text = await dockerfileOf(pinned, undefined);
    expect(text).not.toContain("org.opencontainers.image.source");
    expect(text).not.toContain("org.opencontainers.image.revision");
    expect(text).toContain('org.opencontainers.image.title="hello-label"');
  });

  it("GIVEN the spec names both THEN git is not asked", async () => {
    const asked: string[] = [];
    const text = await dockerfileOf({ ...pinned, source: { url: "https://git.example.com/other/repo", revision: OTHER } }, { revision: SHA, dirty: false }, asked);
    expect(text).toContain(`org.opencontainers.image.revision="${OTHER}"`);
    expect(asked).toEqual([]);
  });
});
