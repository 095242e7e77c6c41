/** Locating the project's `versprochen.toml` the way the server does: nearest in the folder or a parent. Pure. */
import * as path from "node:path";

export const CONFIG_NAME = "versprochen.toml";

/**
 * Candidate config files from `startDir` up to and including `root` (nearest first). When `startDir` is not
 * inside `root`, only the root is a candidate: the extension never looks outside the workspace folder.
 */
export function configCandidates(startDir: string | undefined, root: string, api: path.PlatformPath = path): string[] {
  const normRoot = api.resolve(root);
  const out: string[] = [];
  if (startDir !== undefined) {
    let dir = api.resolve(startDir);
    const rel = api.relative(normRoot, dir);
    if (rel === "" || (!rel.startsWith("..") && !api.isAbsolute(rel))) {
      while (dir !== normRoot) {
        out.push(api.join(dir, CONFIG_NAME));
        const parent = api.dirname(dir);
        if (parent === dir) {
          break;
        }
        dir = parent;
      }
    }
  }
  out.push(api.join(normRoot, CONFIG_NAME));
  return out;
}
