/** Entry point of the VS Code extension: wires the controller (server life cycle) and the commands. */
import * as vscode from "vscode";

import { registerCommands } from "./commands";
import { Controller } from "./controller";

let controller: Controller | undefined;

/** Called by VS Code on the first plain-text, Markdown or mail document (see `activationEvents`). */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("versprochen", { log: true });
  const trace = vscode.window.createOutputChannel("versprochen (Trace)", { log: true });
  controller = new Controller(context, output, trace);
  context.subscriptions.push(output, trace, controller);
  registerCommands(context, controller);
  // Not awaited: finding the Python environment may take seconds and activation should not wait for it.
  void controller.start().then(() => controller?.watchPython());
}

/** Called by VS Code on shutdown: stop the server so no process is left behind. */
export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
