import * as fs from "fs";
import * as path from "path";

/** The project's root (where Pulumi.yaml is), from a test or from its compiled copy (bench). */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(path.join(dir, "scripts", "install-go-tool.sh"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no project root (a directory with Pulumi.yaml and scripts/install-go-tool.sh) above ${from}`);
    }
  }
}
