// The extension with vscode-languageclient against the real `versprochen lsp`, inside a fake VS Code API.
import "./fake/register";

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import * as vscode from "./fake/vscode";

const ROOT = path.resolve(__dirname, "..", "..");
const SERVER = process.env.VERSPROCHEN_LSP ?? path.resolve(ROOT, "..", "..", ".venv", "bin", "versprochen");
const DRAFT = "Sehr geehrte Frau Weiß,\n\nwir liefern garantiert bis Freitag.\n\nViele Grüße\nTom\n";
// Generous: the server loads its engine first, and CI machines may be busy.
const TIMEOUT_MS = 60_000;

interface Extension {
  activate(context: unknown): void;
  deactivate(): Promise<void>;
}

// The esbuild bundle that ships in the .vsix (npm test builds it first), so bundling is tested too.
const BUNDLE = path.join(ROOT, "dist", "extension.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the fake is registered
const extension = require(BUNDLE) as Extension;

function context(): { subscriptions: { dispose(): unknown }[]; extension: unknown; extensionUri: vscode.Uri } {
  const packageJSON: unknown = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  return { subscriptions: [], extension: { packageJSON }, extensionUri: vscode.Uri.file(ROOT) };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; log:\n${vscode.recorded.log.slice(-20).join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function status(): string {
  return vscode.recorded.statusItems.at(-1)?.text ?? "";
}

async function stop(ctx: ReturnType<typeof context>): Promise<void> {
  await extension.deactivate();
  for (const disposable of ctx.subscriptions) {
    disposable.dispose();
  }
}

function configurationChange(...keys: string[]): { affectsConfiguration(section: string): boolean } {
  return { affectsConfiguration: (section) => keys.some((key) => key === section || key.startsWith(`${section}.`)) };
}

describe("without a server", () => {
  it("says what to install and offers the settings", async () => {
    vscode.settings.clear();
    vscode.settings.set("versprochen.server.path", "/nonexistent/bin/versprochen");
    const ctx = context();
    extension.activate(ctx);
    const shown = await waitFor("the error message", () => vscode.recorded.messages.find((m) => m.kind === "error"));
    assert.match(shown.text, /in „versprochen\.server\.path“ eingetragene Sprachserver wurde nicht gefunden/);
    assert.deepEqual(shown.items, ["Einstellungen öffnen", "Protokoll anzeigen"]);
    assert.equal(status(), "$(error) versprochen");
    assert.equal(vscode.recorded.contexts.get("versprochen.serverRunning"), false);
    await stop(ctx);
  });
});

describe("with the real server", { skip: fs.existsSync(SERVER) ? false : `${SERVER} not found` }, () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "versprochen-ext-"));
  const file = path.join(workdir, "entwurf.txt");
  const doc = new vscode.TextDocument(vscode.Uri.file(file), "plaintext", 1, DRAFT);
  const ctx = context();
  let activated = 0;

  function diagnostics(): vscode.Diagnostic[] {
    return (vscode.recorded.diagnostics.get(doc.uri.toString()) ?? []) as vscode.Diagnostic[];
  }

  before(() => {
    // The server must not pick up a tracker database from the developer's machine.
    process.env.XDG_DATA_HOME = path.join(workdir, "data");
    fs.writeFileSync(file, DRAFT);
    vscode.settings.clear();
    vscode.settings.set("versprochen.server.path", SERVER);
    vscode.recorded.messages.length = 0;
    vscode.workspace.workspaceFolders = [{ uri: vscode.Uri.file(workdir), name: "w", index: 0 }];
    vscode.workspace.textDocuments.push(doc);
    vscode.window.activeTextEditor = { document: doc };
    activated = Date.now();
    extension.activate(ctx);
  });

  after(async () => {
    await stop(ctx);
    fs.rmSync(workdir, { recursive: true, force: true });
  });

  it("starts the configured server and counts the risky promise in the status bar", async (t) => {
    await waitFor("the risky promise in the status bar", () => status() === "$(warning) 1 riskante Zusage");
    t.diagnostic(`activation -> risky promise in the status bar: ${Date.now() - activated} ms`);
    assert.equal(vscode.recorded.contexts.get("versprochen.serverRunning"), true);
    assert.ok(vscode.recorded.log.some((line) => line.includes("gefunden über: setting")));
    const risky = diagnostics().find((d) => d.severity === vscode.DiagnosticSeverity.Warning);
    assert.ok(risky, "no warning diagnostic");
    assert.equal(risky.source, "versprochen");
    assert.equal(risky.range.start.line, 2);
  });

  it("sends changed settings; the server re-reads them through workspace/configuration", async () => {
    vscode.settings.set("versprochen.severity.highRiskPromise", "error");
    vscode.events.didChangeConfiguration.fire(configurationChange("versprochen.severity.highRiskPromise"));
    await waitFor("the promise as an error", () =>
      diagnostics().some((d) => d.severity === vscode.DiagnosticSeverity.Error && d.range.start.line === 2));
    // Counted by the configured level, so the number stays right.
    assert.equal(status(), "$(warning) 1 riskante Zusage");
  });

  it("syncs edits incrementally and recounts", async () => {
    const added = "\nAuch die Lampen liefern wir garantiert bis Freitag.\n";
    const offset = doc.getText().length;
    const end = new vscode.Position(doc.lineCount - 1, 0);
    doc.setText(doc.getText() + added);
    vscode.events.didChange.fire({
      document: doc,
      contentChanges: [{ range: new vscode.Range(end, end), rangeOffset: offset, rangeLength: 0, text: added }],
      reason: undefined,
    });
    await waitFor("two risky promises", () => status() === "$(warning) 2 riskante Zusagen");
  });

  it("runs checkAll on the server and reports the counts", async () => {
    await vscode.commands.executeCommand("versprochen.checkAllDocuments");
    const info = vscode.recorded.messages.filter((m) => m.kind === "info").at(-1);
    assert.match(info?.text ?? "", /^versprochen: 1 Dokument geprüft, \d+ Hinweise, 2 riskante Zusagen\.$/);
  });

  it("asks the server for the recipients' open promises", async () => {
    await vscode.commands.executeCommand("versprochen.showOpenPromises");
    const last = vscode.recorded.messages.at(-1);
    assert.match(last?.text ?? "", /Keine offenen Zusagen an die Empfänger dieses Entwurfs/);
  });

  it("creates versprochen.toml from the template", async () => {
    await vscode.commands.executeCommand("versprochen.openProjectConfig");
    const created = fs.readFileSync(path.join(workdir, "versprochen.toml"), "utf8");
    assert.equal(created, fs.readFileSync(path.join(ROOT, "resources", "versprochen.toml"), "utf8"));
  });

  it("restarts the server and gets the findings again", async () => {
    vscode.recorded.diagnostics.clear();
    await vscode.commands.executeCommand("versprochen.restartServer");
    await waitFor("diagnostics after the restart", () => diagnostics().length > 0);
    await waitFor("the count after the restart", () => status() === "$(warning) 2 riskante Zusagen");
  });
});
