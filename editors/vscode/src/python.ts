/** The selected Python environment, read through the Python extension's API (`ms-python.python`) if installed. */
import * as vscode from "vscode";

import type { PythonEnvironment } from "./discovery";

const PYTHON_EXTENSION = "ms-python.python";
// The Python extension can take a while to activate; discovery must not hang on it.
const ACTIVATION_TIMEOUT_MS = 10_000;

interface EnvironmentPath {
  readonly id: string;
  readonly path: string;
}

interface ResolvedEnvironment {
  readonly executable?: { readonly uri?: vscode.Uri; readonly sysPrefix?: string };
}

/** The slice of the Python extension's API used here (environments API, with the older settings API as fallback). */
interface PythonApi {
  readonly environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(environment: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    readonly onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  readonly settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => { resolve(undefined); }, ms));
}

async function pythonApi(): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (extension === undefined) {
    return undefined;
  }
  if (extension.isActive) {
    return extension.exports;
  }
  const activated = extension.activate().then((api) => api, () => undefined);
  return Promise.race([activated, timeout(ACTIVATION_TIMEOUT_MS)]);
}

/** The active interpreter's executable and `sys.prefix` for `resource`, or undefined (no extension, no interpreter). */
export async function activePythonEnvironment(
  resource: vscode.Uri | undefined,
  log: vscode.LogOutputChannel,
): Promise<PythonEnvironment | undefined> {
  try {
    const api = await pythonApi();
    if (api?.environments) {
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      const executable = resolved?.executable?.uri?.fsPath ?? active.path;
      return { executable, sysPrefix: resolved?.executable?.sysPrefix };
    }
    const command = api?.settings?.getExecutionDetails(resource).execCommand;
    return command?.[0] !== undefined ? { executable: command[0] } : undefined;
  } catch (error) {
    // A broken or outdated Python extension must not stop discovery on the PATH.
    log.warn(`Python-Umgebung nicht ermittelbar: ${String(error)}`);
    return undefined;
  }
}

/** Calls `listener` when the user selects another interpreter; undefined when the Python extension is absent. */
export async function onPythonEnvironmentChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  return api?.environments?.onDidChangeActiveEnvironmentPath?.(() => { listener(); });
}
