/**
 * Settings mapping: VS Code's flat `versprochen.*` configuration to the server's nested settings object.
 *
 * Pure (no `vscode` import) so node's test runner can check it. The list of server settings, their types
 * and defaults come from the manifest's `contributes.configuration`, so each default is written once.
 */

export const SECTION = "versprochen";

/** Keys (without the `versprochen.` prefix) that only the extension reads; they never reach the server. */
export const EXTENSION_ONLY_KEYS: readonly string[] = [
  "server.path",
  "server.extraArgs",
  "filePatterns",
  "trace.server",
];

/** Server settings holding file-system paths; `~`, `${workspaceFolder}` and relative paths are resolved. */
export const PATH_KEYS: readonly string[] = ["tracker.path", "lexicon.extraFolders"];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = Record<string, Json>;

/** The part of a JSON-schema property in `contributes.configuration` that the mapping uses. */
export interface SettingSpec {
  readonly key: string;
  readonly type: string;
  readonly default: Json;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly itemType?: string;
}

/** Where relative and `~` paths point to. */
export interface PathContext {
  readonly workspaceFolder?: string | undefined;
  readonly home: string;
}

/** The nested settings object plus one German message per invalid value that was replaced by its default. */
export interface MappedSettings {
  readonly settings: JsonObject;
  readonly problems: readonly string[];
}

interface RawProperty {
  type?: unknown;
  default?: unknown;
  enum?: unknown;
  minimum?: unknown;
  items?: { type?: unknown };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** All `versprochen.*` properties of the manifest, in declaration order. */
export function manifestProperties(manifest: unknown): Map<string, RawProperty> {
  const out = new Map<string, RawProperty>();
  const contributes = isRecord(manifest) ? manifest.contributes : undefined;
  const configuration = isRecord(contributes) ? contributes.configuration : undefined;
  const groups: unknown[] = Array.isArray(configuration) ? configuration : [configuration];
  for (const group of groups) {
    const properties = isRecord(group) ? group.properties : undefined;
    if (!isRecord(properties)) {
      continue;
    }
    for (const [name, property] of Object.entries(properties)) {
      if (name.startsWith(`${SECTION}.`) && isRecord(property)) {
        out.set(name.slice(SECTION.length + 1), property);
      }
    }
  }
  return out;
}

/** The server settings declared in the manifest (everything but the extension-only keys). */
export function serverSettingSpecs(manifest: unknown): SettingSpec[] {
  const specs: SettingSpec[] = [];
  for (const [key, property] of manifestProperties(manifest)) {
    if (EXTENSION_ONLY_KEYS.includes(key)) {
      continue;
    }
    if (typeof property.type !== "string") {
      throw new Error(`package.json: ${SECTION}.${key} has no single "type"`);
    }
    const spec: SettingSpec = {
      key,
      type: property.type,
      default: property.default as Json,
      ...(Array.isArray(property.enum) ? { enum: property.enum.map(String) } : {}),
      ...(typeof property.minimum === "number" ? { minimum: property.minimum } : {}),
      ...(typeof property.items?.type === "string" ? { itemType: property.items.type } : {}),
    };
    specs.push(spec);
  }
  return specs;
}

/** Why `value` does not fit `spec`, or undefined when it does. */
export function validate(spec: SettingSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case "boolean":
      return typeof value === "boolean" ? undefined : "erwartet true oder false";
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return "erwartet eine ganze Zahl";
      }
      return spec.minimum !== undefined && value < spec.minimum ? `erwartet mindestens ${spec.minimum}` : undefined;
    case "string":
      if (typeof value !== "string") {
        return "erwartet eine Zeichenkette";
      }
      return spec.enum && !spec.enum.includes(value) ? `erlaubt: ${spec.enum.join(", ")}` : undefined;
    case "array":
      return Array.isArray(value) && value.every((item) => typeof item === "string")
        ? undefined
        : "erwartet eine Liste von Zeichenketten";
    default:
      return `unbekannter Typ ${spec.type}`;
  }
}

/** `~`, `${workspaceFolder}` and relative paths made absolute (relative to the workspace folder when open). */
export function expandPath(value: string, context: PathContext, sep = "/"): string {
  let path = value.trim();
  if (path === "") {
    return "";
  }
  const folder = context.workspaceFolder;
  if (folder !== undefined) {
    path = path.split("${workspaceFolder}").join(folder);
  }
  if (path === "~" || path.startsWith("~/") || path.startsWith("~\\")) {
    path = context.home + path.slice(1);
  }
  const absolute = path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);
  if (!absolute && folder !== undefined) {
    path = folder.endsWith(sep) ? folder + path : folder + sep + path;
  }
  return path;
}

function setNested(target: JsonObject, key: string, value: Json): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (isRecord(child)) {
      node = child;
    } else {
      const created: JsonObject = {};
      node[part] = created;
      node = created;
    }
  }
  const last = parts[parts.length - 1];
  if (last !== undefined) {
    node[last] = value;
  }
}

function resolvePaths(key: string, value: Json, context: PathContext): Json {
  if (!PATH_KEYS.includes(key)) {
    return value;
  }
  if (typeof value === "string") {
    return expandPath(value, context);
  }
  if (Array.isArray(value)) {
    return value.map((item) => (typeof item === "string" ? expandPath(item, context) : item));
  }
  return value;
}

/**
 * The nested server settings for the values `get` returns (VS Code's `WorkspaceConfiguration.get` on the
 * `versprochen` section); a missing or invalid value becomes the manifest default.
 */
export function buildServerSettings(
  specs: readonly SettingSpec[],
  get: (key: string) => unknown,
  context: PathContext,
): MappedSettings {
  const settings: JsonObject = {};
  const problems: string[] = [];
  for (const spec of specs) {
    const raw = get(spec.key);
    let value: Json = spec.default;
    if (raw !== undefined && raw !== null) {
      const problem = validate(spec, raw);
      if (problem === undefined) {
        value = raw as Json;
      } else {
        problems.push(
          `Einstellung ${SECTION}.${spec.key}: ungültiger Wert ${JSON.stringify(raw)} (${problem}); ` +
            `Standardwert ${JSON.stringify(spec.default)} wird verwendet.`,
        );
      }
    }
    setNested(settings, spec.key, resolvePaths(spec.key, value, context));
  }
  return { settings, problems };
}

/** The value at a dotted path of a nested settings object (for `workspace/configuration` sub-sections). */
export function pick(settings: JsonObject, dotted: string): Json | undefined {
  let node: Json | undefined = settings;
  for (const part of dotted.split(".")) {
    if (!isRecord(node)) {
      return undefined;
    }
    node = node[part];
  }
  return node;
}

/** The default nested settings the manifest declares (what the server must use when nothing is set). */
export function defaultServerSettings(manifest: unknown): JsonObject {
  return buildServerSettings(serverSettingSpecs(manifest), () => undefined, { home: "" }).settings;
}
