/**
 * Finding the `versprochen` executable: the setting, else the selected Python environment, else the PATH.
 *
 * Pure: the file system, environment and platform come in as arguments so tests can fake them.
 */
import * as path from "node:path";

import { expandPath } from "./settings";

export const EXECUTABLE = "versprochen";

/** The parts of the Python extension's active environment that locate its scripts folder. */
export interface PythonEnvironment {
  /** The interpreter, e.g. `/proj/.venv/bin/python` or `C:\proj\.venv\Scripts\python.exe`. */
  readonly executable?: string | undefined;
  /** `sys.prefix` of the environment, e.g. `/proj/.venv`. */
  readonly sysPrefix?: string | undefined;
}

/** Everything discovery looks at. */
export interface DiscoveryInput {
  readonly settingPath: string;
  readonly workspaceFolder?: string | undefined;
  readonly home: string;
  readonly python?: PythonEnvironment | undefined;
  /** The PATH environment variable. */
  readonly envPath: string;
  readonly platform: NodeJS.Platform;
  /** True when `file` exists and can be executed. */
  readonly isExecutable: (file: string) => boolean;
}

export type ServerSource = "setting" | "python" | "path";

/** The outcome: the command to start, or why none was found and which files were tried. */
export type Discovery =
  | { readonly found: true; readonly command: string; readonly source: ServerSource }
  | { readonly found: false; readonly reason: "settingNotFound" | "notFound"; readonly tried: readonly string[] };

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

/**
 * File names an executable may have on this platform. On Windows only `.exe`: pip's console scripts are
 * `.exe` launchers, and node refuses to spawn `.cmd`/`.bat` files without a shell.
 */
export function executableNames(name: string, platform: NodeJS.Platform): string[] {
  if (platform !== "win32" || /\.exe$/i.test(name)) {
    return [name];
  }
  return [`${name}.exe`];
}

/** Candidate scripts of a Python environment: next to the interpreter, then under `sys.prefix`. */
export function pythonCandidates(env: PythonEnvironment, platform: NodeJS.Platform): string[] {
  const p = pathApi(platform);
  const file = platform === "win32" ? `${EXECUTABLE}.exe` : EXECUTABLE;
  const dirs: string[] = [];
  if (env.executable) {
    dirs.push(p.dirname(env.executable));
  }
  if (env.sysPrefix) {
    // Conda on Windows keeps python.exe at the root and the scripts in `Scripts`.
    dirs.push(platform === "win32" ? p.join(env.sysPrefix, "Scripts") : p.join(env.sysPrefix, "bin"));
  }
  return [...new Set(dirs.map((dir) => p.join(dir, file)))];
}

/** The first match of `name` on the PATH, with every file that was tried. */
export function searchPath(
  name: string,
  input: Pick<DiscoveryInput, "envPath" | "platform" | "isExecutable">,
): { found?: string; tried: string[] } {
  const p = pathApi(input.platform);
  const delimiter = input.platform === "win32" ? ";" : ":";
  const tried: string[] = [];
  for (const dir of input.envPath.split(delimiter)) {
    if (dir.trim() === "") {
      continue;
    }
    for (const file of executableNames(name, input.platform)) {
      const candidate = p.join(dir.replace(/^"(.*)"$/, "$1"), file);
      tried.push(candidate);
      if (input.isExecutable(candidate)) {
        return { found: candidate, tried };
      }
    }
  }
  return { tried };
}

function fromSetting(input: DiscoveryInput): Discovery {
  const p = pathApi(input.platform);
  const value = input.settingPath.trim();
  const sep = input.platform === "win32" ? "\\" : "/";
  // A bare name ("versprochen", "versprochen-dev") is looked up on the PATH like a shell would.
  if (!value.includes("/") && !value.includes("\\") && !value.startsWith("~")) {
    const hit = searchPath(value, input);
    return hit.found !== undefined
      ? { found: true, command: hit.found, source: "setting" }
      : { found: false, reason: "settingNotFound", tried: hit.tried };
  }
  const expanded = p.normalize(expandPath(value, input, sep));
  const tried: string[] = [];
  for (const file of new Set([expanded, ...executableNames(expanded, input.platform)])) {
    tried.push(file);
    if (input.isExecutable(file)) {
      return { found: true, command: file, source: "setting" };
    }
  }
  return { found: false, reason: "settingNotFound", tried };
}

/** Where to start the server from: the setting wins; an unusable setting is an error, not a fallback. */
export function discoverServer(input: DiscoveryInput): Discovery {
  if (input.settingPath.trim() !== "") {
    return fromSetting(input);
  }
  const tried: string[] = [];
  if (input.python) {
    for (const candidate of pythonCandidates(input.python, input.platform)) {
      tried.push(candidate);
      if (input.isExecutable(candidate)) {
        return { found: true, command: candidate, source: "python" };
      }
    }
  }
  const hit = searchPath(EXECUTABLE, input);
  tried.push(...hit.tried);
  return hit.found !== undefined
    ? { found: true, command: hit.found, source: "path" }
    : { found: false, reason: "notFound", tried };
}
