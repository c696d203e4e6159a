import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Directories never part of an image's build context hash. */
const SKIP = new Set([".git", "node_modules", ".pulumi"]);

/**
 * A content hash of a build context: relative paths and file bytes, sorted, so the same files
 * give the same hash on any machine and in any directory (no mtimes, no absolute paths).
 */
export function hashBuildContext(dir: string, extra = ""): string {
  const hash = crypto.createHash("sha256");
  hash.update(extra);
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (SKIP.has(entry.name)) {
        continue;
      }
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        walk(childRel);
      } else if (entry.isFile()) {
        hash.update(`\0file\0${childRel}\0`);
        hash.update(fs.readFileSync(path.join(dir, childRel)));
      } else if (entry.isSymbolicLink()) {
        hash.update(`\0link\0${childRel}\0${fs.readlinkSync(path.join(dir, childRel))}`);
      }
    }
  };
  if (fs.existsSync(dir)) {
    walk("");
  }
  return hash.digest("hex");
}

/** The immutable tag of a build: prefix + 16 hex of the Dockerfile and build context content. */
export function contentTag(dockerfileText: string, contextDir: string, prefix: string): string {
  const hash = crypto.createHash("sha256").update(dockerfileText).update(hashBuildContext(contextDir)).digest("hex");
  return `${prefix}${hash.slice(0, 16)}`;
}
