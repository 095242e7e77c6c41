/** The server's life cycle: discovery, start, restart on setting changes, and the status-bar item. */
import * as fs from "node:fs";
import * as os from "node:os";

import * as vscode from "vscode";
import { DidChangeConfigurationNotification, State, type LanguageClient } from "vscode-languageclient/node";

import { createClient, settingsFor } from "./client";
import { discoverServer, type Discovery } from "./discovery";
import { buttons, serverNotFoundMessage } from "./messages";
import { activePythonEnvironment, onPythonEnvironmentChange } from "./python";
import { countRiskyPromises, statusText, statusTooltip, type ServerState } from "./risk";
import { SECTION, serverSettingSpecs } from "./settings";

// Changing these needs a new client: they shape the process or the document selector.
const RESTART_KEYS = ["server.path", "server.extraArgs", "filePatterns"];
const RUNNING_CONTEXT = "versprochen.serverRunning";

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Owns the language client; one instance per activation. */
export class Controller implements vscode.Disposable {
  client: LanguageClient | undefined;
  private state: ServerState = "stopped";
  private detail = "";
  private source: Discovery | undefined;
  private readonly risky = new Map<string, number>();
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: { dispose(): unknown }[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly trace: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem("versprochen.status", vscode.StatusBarAlignment.Right, 100);
    this.status.name = "versprochen";
    this.status.command = "versprochen.showOutput";
    this.disposables.push(
      this.status,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
          this.output.info("Servereinstellungen geändert: Neustart.");
          void this.restart();
        } else if (event.affectsConfiguration(SECTION)) {
          // Pull-model servers re-read `workspace/configuration` on this notification; push-model ones
          // (Neovim-style) take the settings from it directly.
          void this.client?.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { [SECTION]: settingsFor(serverSettingSpecs(this.context.extension.packageJSON), undefined).settings },
          });
          this.updateStatus();
        }
      }),
      vscode.window.onDidChangeActiveTextEditor(() => { this.updateStatus(); }),
    );
    this.updateStatus();
  }

  /** Start the server (serialised with other start/stop calls so restarts never overlap). */
  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  /** Stop and start again, e.g. after the server path changed or the server hung. */
  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Stop the server. */
  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** Watch the Python extension's interpreter choice; a server found there follows the selection. */
  async watchPython(): Promise<void> {
    const disposable = await onPythonEnvironmentChange(() => {
      if (this.source?.found !== true || this.source.source !== "setting") {
        this.output.info("Python-Interpreter gewechselt: Sprachserver wird neu gesucht.");
        void this.restart();
      }
    });
    if (disposable !== undefined) {
      this.disposables.push(disposable);
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step);
    return this.queue;
  }

  private async discover(): Promise<Discovery> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const python = await activePythonEnvironment(folder?.uri, this.output);
    return discoverServer({
      settingPath: config.get<string>("server.path") ?? "",
      workspaceFolder: folder?.uri.scheme === "file" ? folder.uri.fsPath : undefined,
      home: os.homedir(),
      python,
      envPath: process.env.PATH ?? "",
      platform: process.platform,
      isExecutable,
    });
  }

  private async doStart(): Promise<void> {
    this.setState("starting", "");
    const found = await this.discover();
    this.source = found;
    if (!found.found) {
      this.output.error(`Sprachserver nicht gefunden; geprüft: ${found.tried.join(", ") || "(nichts)"}`);
      this.setState("error", "Sprachserver nicht gefunden.");
      void this.reportNotFound(found);
      return;
    }
    const extraArgs = (vscode.workspace.getConfiguration(SECTION).get<unknown[]>("server.extraArgs") ?? [])
      .filter((a): a is string => typeof a === "string");
    this.output.info(`Starte ${found.command} lsp ${extraArgs.join(" ")} --stdio (gefunden über: ${found.source})`);
    const client = createClient({
      command: found.command,
      extraArgs,
      manifest: this.context.extension.packageJSON,
      output: this.output,
      trace: this.trace,
      onDiagnostics: (uri, diagnostics) => { this.onDiagnostics(uri, diagnostics); },
    });
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.setState("ready", "");
      } else if (event.newState === State.Starting) {
        this.setState("starting", "");
      } else if (this.client === client) {
        // Stopped without our asking: the process died and languageclient gave up restarting it.
        this.setState("error", "Sprachserver unerwartet beendet; siehe Protokoll.");
      } else if (this.state !== "error") {
        this.setState("stopped", "");
      }
    });
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      this.reportStartFailure(found.command, error);
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.risky.clear();
    if (client !== undefined) {
      try {
        await client.dispose(2000);
      } catch (error) {
        this.output.warn(`Sprachserver ließ sich nicht sauber beenden: ${String(error)}`);
      }
    }
    this.setState("stopped", "");
  }

  private async reportNotFound(found: Discovery & { found: false }): Promise<void> {
    const language = vscode.env.language;
    const labels = buttons(language);
    const choice = await vscode.window.showErrorMessage(
      serverNotFoundMessage(found, language),
      labels.settings,
      labels.output,
    );
    if (choice === labels.settings) {
      await vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.server.path`);
    } else if (choice === labels.output) {
      this.output.show();
    }
  }

  private reportStartFailure(command: string, error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.output.error(`Start fehlgeschlagen: ${text}`);
    this.setState("error", `Start fehlgeschlagen: ${text}`);
    const labels = buttons(vscode.env.language);
    void vscode.window
      .showErrorMessage(
        `versprochen: Der Sprachserver (${command} lsp) ließ sich nicht starten: ${text}. ` +
          "Prüfen Sie „versprochen lsp --help“ im Terminal und das Protokoll.",
        labels.output,
        labels.settings,
      )
      .then((choice) => {
        if (choice === labels.output) {
          this.output.show();
        } else if (choice === labels.settings) {
          void vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.server`);
        }
      });
  }

  private onDiagnostics(uri: vscode.Uri, diagnostics: readonly vscode.Diagnostic[]): void {
    const level = vscode.workspace.getConfiguration(SECTION, uri).get<string>("severity.highRiskPromise") ?? "warning";
    this.risky.set(uri.toString(), countRiskyPromises(diagnostics, level));
    if (vscode.window.activeTextEditor?.document.uri.toString() === uri.toString()) {
      this.updateStatus();
    }
  }

  private setState(state: ServerState, detail: string): void {
    this.state = state;
    this.detail = detail;
    void vscode.commands.executeCommand("setContext", RUNNING_CONTEXT, state === "ready");
    this.updateStatus();
  }

  private updateStatus(): void {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const risky = uri !== undefined ? this.risky.get(uri) : undefined;
    this.status.text = statusText(this.state, risky);
    this.status.tooltip = statusTooltip(this.state, risky, this.detail);
    this.status.backgroundColor =
      this.state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : risky !== undefined && risky > 0 ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.status.show();
  }

  /** Stop the server and release the listeners. */
  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}
