/**
 * The extension's commands. Their ids differ from the server's command ids (`versprochen.checkAll`,
 * `versprochen.openPromises`) on purpose: languageclient registers a VS Code command for every command the
 * server announces, and registering the same id twice fails.
 */
import * as path from "node:path";

import * as vscode from "vscode";
import { ExecuteCommandRequest } from "vscode-languageclient/node";

import type { Controller } from "./controller";
import { describeCheckAll } from "./messages";
import { CONFIG_NAME, configCandidates } from "./projectConfig";
import { parseOpenPromises, toMarkdown, toPickItems } from "./promises";
import { LANGUAGES } from "./selector";

export const SERVER_CHECK_ALL = "versprochen.checkAll";
export const SERVER_OPEN_PROMISES = "versprochen.openPromises";
export const PROMISES_SCHEME = "versprochen-promises";

/** Read-only virtual documents holding the open-promises overview. */
class PromisesDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  set(uri: vscode.Uri, content: string): void {
    this.contents.set(uri.toString(), content);
  }
}

async function executeOnServer(controller: Controller, command: string, args: unknown[]): Promise<unknown> {
  const client = controller.client;
  if (client?.isRunning() !== true) {
    void vscode.window.showWarningMessage("versprochen: Der Sprachserver läuft nicht (siehe Statusleiste).");
    return undefined;
  }
  const known = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  if (!known.includes(command)) {
    void vscode.window.showWarningMessage(
      `versprochen: Dieser Sprachserver bietet den Befehl „${command}“ nicht an. Bitte versprochen aktualisieren.`,
    );
    return undefined;
  }
  try {
    return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    controller.output.error(`${command} fehlgeschlagen: ${text}`);
    void vscode.window.showErrorMessage(`versprochen: ${command} fehlgeschlagen: ${text}`);
    return undefined;
  }
}

async function checkAll(controller: Controller): Promise<void> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "versprochen: prüfe alle offenen Dokumente" },
    () => executeOnServer(controller, SERVER_CHECK_ALL, []),
  );
  if (result !== undefined) {
    void vscode.window.showInformationMessage(describeCheckAll(result));
  }
}

async function showOpenPromises(controller: Controller, documents: PromisesDocuments): Promise<void> {
  const document = vscode.window.activeTextEditor?.document;
  if (document === undefined || !LANGUAGES.includes(document.languageId)) {
    void vscode.window.showInformationMessage("versprochen: Öffnen Sie zuerst einen Entwurf (Text, Markdown oder E-Mail).");
    return;
  }
  const result = await executeOnServer(controller, SERVER_OPEN_PROMISES, [document.uri.toString()]);
  if (result === undefined) {
    return;
  }
  const promises = parseOpenPromises(result, new Date());
  if (promises.length === 0) {
    void vscode.window.showInformationMessage(
      "versprochen: Keine offenen Zusagen an die Empfänger dieses Entwurfs (oder kein Tracker / keine An-Zeile).",
    );
    return;
  }
  const name = path.basename(document.uri.path) || "Entwurf";
  const picked = await vscode.window.showQuickPick(toPickItems(promises), {
    title: `Offene Zusagen an die Empfänger von ${name} (${promises.length})`,
    placeHolder: "Eintrag wählen, um die Übersicht als Dokument zu öffnen",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked !== undefined) {
    const uri = vscode.Uri.from({ scheme: PROMISES_SCHEME, path: `/Offene Zusagen – ${name}.md` });
    documents.set(uri, toMarkdown(promises, name));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(await vscode.languages.setTextDocumentLanguage(doc, "markdown"), { preview: true });
  }
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

async function openProjectConfig(context: vscode.ExtensionContext): Promise<void> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) {
    void vscode.window.showInformationMessage(
      `versprochen: Öffnen Sie einen Ordner; die ${CONFIG_NAME} liegt im Projektordner.`,
    );
    return;
  }
  const startDir = active?.scheme === "file" ? path.dirname(active.fsPath) : undefined;
  const candidates = folder.uri.scheme === "file"
    ? configCandidates(startDir, folder.uri.fsPath).map((file) => vscode.Uri.file(file))
    : [vscode.Uri.joinPath(folder.uri, CONFIG_NAME)];
  for (const candidate of candidates) {
    if (await exists(candidate)) {
      await vscode.window.showTextDocument(candidate);
      return;
    }
  }
  const target = vscode.Uri.joinPath(folder.uri, CONFIG_NAME);
  const template = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, "resources", CONFIG_NAME));
  await vscode.workspace.fs.writeFile(target, template);
  await vscode.window.showTextDocument(target);
  void vscode.window.showInformationMessage(`versprochen: ${CONFIG_NAME} mit kommentierter Vorlage angelegt.`);
}

/** Register every contributed command. */
export function registerCommands(context: vscode.ExtensionContext, controller: Controller): void {
  const documents = new PromisesDocuments();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(PROMISES_SCHEME, documents),
    vscode.commands.registerCommand("versprochen.restartServer", () => controller.restart()),
    vscode.commands.registerCommand("versprochen.checkAllDocuments", () => checkAll(controller)),
    vscode.commands.registerCommand("versprochen.showOpenPromises", () => showOpenPromises(controller, documents)),
    vscode.commands.registerCommand("versprochen.openProjectConfig", () => openProjectConfig(context)),
    vscode.commands.registerCommand("versprochen.showOutput", () => { controller.output.show(); }),
  );
}
