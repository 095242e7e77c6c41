/** Building the language client: server process, document selector, settings on the wire, diagnostics hook. */
import * as os from "node:os";

import * as vscode from "vscode";
import {
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type ConfigurationParams,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
} from "vscode-languageclient/node";

import { documentSelector } from "./selector";
import {
  SECTION,
  buildServerSettings,
  pick,
  serverSettingSpecs,
  type Json,
  type MappedSettings,
  type SettingSpec,
} from "./settings";

/** What the client needs from the extension around it. */
export interface ClientSetup {
  readonly command: string;
  readonly extraArgs: readonly string[];
  readonly manifest: unknown;
  readonly output: vscode.LogOutputChannel;
  readonly trace: vscode.LogOutputChannel;
  /** Called with every diagnostics publication before VS Code shows it. */
  readonly onDiagnostics: (uri: vscode.Uri, diagnostics: readonly vscode.Diagnostic[]) => void;
}

/** The server settings for a resource (or the first workspace folder), mapped from VS Code's configuration. */
export function settingsFor(specs: readonly SettingSpec[], scope: vscode.Uri | undefined): MappedSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const folder = scope !== undefined ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
  return buildServerSettings(specs, (key) => config.get(key), {
    workspaceFolder: folder?.uri.scheme === "file" ? folder.uri.fsPath : undefined,
    home: os.homedir(),
  });
}

function logProblems(output: vscode.LogOutputChannel, mapped: MappedSettings): MappedSettings {
  for (const problem of mapped.problems) {
    output.warn(problem);
  }
  return mapped;
}

/** The answer for one `workspace/configuration` item of our section, or undefined when it is not ours. */
function answerItem(specs: readonly SettingSpec[], section: string | undefined, scopeUri: string | undefined): Json | undefined {
  if (section !== SECTION && !section?.startsWith(`${SECTION}.`)) {
    return undefined;
  }
  const scope = scopeUri !== undefined ? vscode.Uri.parse(scopeUri) : undefined;
  const settings = settingsFor(specs, scope).settings;
  return section === SECTION ? settings : (pick(settings, section.slice(SECTION.length + 1)) ?? null);
}

function middleware(setup: ClientSetup, specs: readonly SettingSpec[]): Middleware {
  return {
    workspace: {
      // Answer for our section with the mapped, validated settings (extension-only keys stay out).
      configuration: async (params: ConfigurationParams, token, next) => {
        const ours = params.items.map((item) => answerItem(specs, item.section, item.scopeUri));
        if (ours.every((answer) => answer !== undefined)) {
          return ours;
        }
        const theirs = await next(params, token);
        if (!Array.isArray(theirs)) {
          return theirs;
        }
        return ours.map((answer, i): unknown => answer ?? theirs[i]);
      },
      // The controller pushes the mapped settings on every change; a dynamic registration by the server
      // must not add a second notification carrying the raw, unvalidated section.
      didChangeConfiguration: () => Promise.resolve(),
    },
    handleDiagnostics: (uri, diagnostics, next) => {
      setup.onDiagnostics(uri, diagnostics);
      next(uri, diagnostics);
    },
  };
}

/** A language client for `versprochen lsp` over stdio (languageclient appends `--stdio`), not yet started. */
export function createClient(setup: ClientSetup): LanguageClient {
  const specs = serverSettingSpecs(setup.manifest);
  const folder = vscode.workspace.workspaceFolders?.[0];
  const serverOptions: ServerOptions = {
    command: setup.command,
    args: ["lsp", ...setup.extraArgs],
    transport: TransportKind.stdio,
    // The server looks for versprochen.toml from its working directory upward.
    options: folder?.uri.scheme === "file" ? { cwd: folder.uri.fsPath } : {},
  };
  const patterns = vscode.workspace.getConfiguration(SECTION).get<unknown[]>("filePatterns");
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(patterns),
    initializationOptions: () => logProblems(setup.output, settingsFor(specs, folder?.uri)).settings,
    outputChannel: setup.output,
    traceOutputChannel: setup.trace,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    diagnosticCollectionName: SECTION,
    markdown: { isTrusted: false, supportHtml: false },
    middleware: middleware(setup, specs),
  };
  return new LanguageClient(SECTION, "versprochen", serverOptions, clientOptions);
}
