/**
 * A small stand-in for the `vscode` module: enough of the API for the extension and vscode-languageclient
 * to start the real language server, sync documents and show diagnostics, so the integration test can run
 * without VS Code (which cannot be downloaded here). It records what the extension shows to the user.
 */
import * as fs from "node:fs";
import * as path from "node:path";

type Listener<T> = (event: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => { for (const item of items) { item.dispose(); } });
  }

  constructor(private readonly onDispose: () => unknown = () => undefined) {}

  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: { listener: Listener<T>; thisArg: unknown }[] = [];

  readonly event = (listener: Listener<T>, thisArg?: unknown): Disposable => {
    const entry = { listener, thisArg };
    this.listeners.push(entry);
    return new Disposable(() => { this.listeners = this.listeners.filter((l) => l !== entry); });
  };

  fire(value: T): void {
    for (const { listener, thisArg } of [...this.listeners]) {
      listener.call(thisArg, value);
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(readonly scheme: string, readonly path: string, readonly query = "", readonly fragment = "") {}

  static file(file: string): Uri {
    return new Uri("file", path.resolve(file));
  }

  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ""), decodeURIComponent(url.pathname));
  }

  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.posix.join(base.path, ...parts));
  }

  static from(parts: { scheme: string; path?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? "");
  }

  get fsPath(): string {
    return this.path;
  }

  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.path);
  }

  toString(): string {
    return `${this.scheme}://${encodeURI(this.path)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;

  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === "number" ? new Position(a, b as number) : a;
    this.end = typeof a === "number" ? new Position(c ?? 0, d ?? 0) : (b as Position);
  }
}

export class Location {
  constructor(readonly uri: Uri, readonly range: Range) {}
}

export enum DiagnosticSeverity { Error = 0, Warning = 1, Information = 2, Hint = 3 }
export enum DiagnosticTag { Unnecessary = 1, Deprecated = 2 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export enum LogLevel { Off = 0, Trace = 1, Debug = 2, Info = 3, Warning = 4, Error = 5 }

export class Diagnostic {
  code?: unknown;
  source?: string;
  relatedInformation?: unknown[];
  tags?: DiagnosticTag[];

  constructor(readonly range: Range, readonly message: string, readonly severity = DiagnosticSeverity.Error) {}
}

export class DiagnosticRelatedInformation {
  constructor(readonly location: Location, readonly message: string) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  constructor(public value = "") {}
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<undefined>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };

  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire(undefined);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export class CodeActionKind {
  static readonly Empty = new CodeActionKind("");
  static readonly QuickFix = new CodeActionKind("quickfix");

  constructor(readonly value: string) {}

  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
}

/** Base of the classes below: languageclient extends them at load time; the test never converts these kinds. */
class Stub {
  readonly stub = true;
}

export class CallHierarchyItem extends Stub {}
export class CodeLens extends Stub {}
export class CompletionItem extends Stub {}
export class DocumentLink extends Stub {}
export class InlayHint extends Stub {}
export class SymbolInformation extends Stub {}
export class TypeHierarchyItem extends Stub {}
export class CodeAction extends Stub {}

export class TabInputText extends Stub {}
export class TabInputTextDiff extends Stub {}
export class TabInputNotebook extends Stub {}
export class TabInputCustom extends Stub {}
export class RelativePattern {
  constructor(readonly base: unknown, readonly pattern: string) {}
}

export const version = "1.91.0";

/** A text document held in memory. */
export class TextDocument {
  isClosed = false;
  isDirty = false;
  readonly isUntitled = false;
  readonly eol = 1;

  constructor(readonly uri: Uri, readonly languageId: string, public version: number, private text: string) {}

  get fileName(): string {
    return this.uri.fsPath;
  }

  get lineCount(): number {
    return this.text.split("\n").length;
  }

  getText(): string {
    return this.text;
  }

  setText(text: string): void {
    this.text = text;
    this.version += 1;
  }
}

/** What the fake records for the test to assert on. */
export const recorded = {
  messages: [] as { kind: string; text: string; items: string[] }[],
  contexts: new Map<string, unknown>(),
  shown: [] as string[],
  statusItems: [] as { text: string; tooltip: unknown; show(): void }[],
  log: [] as string[],
  diagnostics: new Map<string, unknown[]>(),
};

/** Settings the fake's `getConfiguration` answers from, keyed by the full dotted name. */
export const settings = new Map<string, unknown>();

const commandTable = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    // VS Code refuses a second registration of the same id; so does the fake.
    if (commandTable.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    commandTable.set(id, handler);
    return new Disposable(() => commandTable.delete(id));
  },
  executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    if (id === "setContext") {
      recorded.contexts.set(String(args[0]), args[1]);
      return Promise.resolve(undefined);
    }
    const handler = commandTable.get(id);
    return handler ? Promise.resolve(handler(...args)) : Promise.resolve(undefined);
  },
  getCommands(): Promise<string[]> {
    return Promise.resolve([...commandTable.keys()]);
  },
};

function configuration(section: string | undefined): { get(key: string, fallback?: unknown): unknown; has(key: string): boolean } {
  const prefix = section ? `${section}.` : "";
  return {
    get(key: string, fallback?: unknown): unknown {
      const full = prefix + key;
      if (settings.has(full)) {
        return settings.get(full);
      }
      // Sub-sections ("severity") come back as nested objects, like VS Code does.
      const nested: Record<string, unknown> = {};
      for (const [name, value] of settings) {
        if (name.startsWith(`${full}.`)) {
          nested[name.slice(full.length + 1)] = value;
        }
      }
      return Object.keys(nested).length > 0 ? nested : fallback;
    },
    has(key: string): boolean {
      return settings.has(prefix + key);
    },
  };
}

export const events = {
  didOpen: new EventEmitter<TextDocument>(),
  didChange: new EventEmitter<unknown>(),
  didClose: new EventEmitter<TextDocument>(),
  didChangeConfiguration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  activeEditor: new EventEmitter<unknown>(),
};

const noEvent = (): Disposable => new Disposable();

export const workspace = {
  textDocuments: [] as TextDocument[],
  notebookDocuments: [] as unknown[],
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  getConfiguration: (section?: string) => configuration(section),
  getWorkspaceFolder: (uri: Uri) => workspace.workspaceFolders?.find((f) => uri.path.startsWith(f.uri.path)),
  onDidOpenTextDocument: events.didOpen.event,
  onDidChangeTextDocument: events.didChange.event,
  onDidCloseTextDocument: events.didClose.event,
  onDidSaveTextDocument: noEvent,
  onWillSaveTextDocument: noEvent,
  onDidChangeConfiguration: events.didChangeConfiguration.event,
  onDidChangeWorkspaceFolders: noEvent,
  onDidCreateFiles: noEvent,
  onDidRenameFiles: noEvent,
  onDidDeleteFiles: noEvent,
  onWillCreateFiles: noEvent,
  onWillRenameFiles: noEvent,
  onWillDeleteFiles: noEvent,
  onDidOpenNotebookDocument: noEvent,
  onDidChangeNotebookDocument: noEvent,
  onDidSaveNotebookDocument: noEvent,
  onDidCloseNotebookDocument: noEvent,
  createFileSystemWatcher: () => ({ onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose() { /* none */ } }),
  registerTextDocumentContentProvider: () => new Disposable(),
  applyEdit: () => Promise.resolve(true),
  openTextDocument: (uri: Uri) => Promise.resolve(workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())),
  fs: {
    stat: (uri: Uri) => fs.promises.stat(uri.fsPath),
    readFile: (uri: Uri) => fs.promises.readFile(uri.fsPath),
    writeFile: (uri: Uri, data: Uint8Array) => fs.promises.writeFile(uri.fsPath, data),
  },
};

function outputChannel(name: string): Record<string, unknown> {
  const write = (level: string) => (text: string) => { recorded.log.push(`[${name}] ${level} ${text}`); };
  return {
    name,
    logLevel: LogLevel.Info,
    onDidChangeLogLevel: noEvent,
    trace: write("trace"), debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"),
    append: write(""), appendLine: write(""), replace: write(""), clear() { /* none */ },
    show() { recorded.shown.push(name); }, hide() { /* none */ }, dispose() { /* none */ },
  };
}

function message(kind: string) {
  return (text: string, ...items: unknown[]): Promise<undefined> => {
    recorded.messages.push({ kind, text, items: items.filter((i): i is string => typeof i === "string") });
    return Promise.resolve(undefined);
  };
}

export const window = {
  activeTextEditor: undefined as { document: TextDocument } | undefined,
  visibleTextEditors: [] as unknown[],
  tabGroups: { all: [] as unknown[], onDidChangeTabs: noEvent, onDidChangeTabGroups: noEvent },
  onDidChangeActiveTextEditor: events.activeEditor.event,
  onDidChangeVisibleTextEditors: noEvent,
  createOutputChannel: (name: string) => outputChannel(name),
  createStatusBarItem: () => {
    const item = { text: "", tooltip: undefined as unknown, name: "", command: "", backgroundColor: undefined,
      show() { /* visible */ }, hide() { /* hidden */ }, dispose() { /* none */ } };
    recorded.statusItems.push(item);
    return item;
  },
  showInformationMessage: message("info"),
  showWarningMessage: message("warning"),
  showErrorMessage: message("error"),
  showQuickPick: () => Promise.resolve(undefined),
  showTextDocument: (doc: unknown) => { recorded.shown.push(String(doc)); return Promise.resolve(undefined); },
  withProgress: (_options: unknown, task: (progress: unknown, token: unknown) => unknown) =>
    Promise.resolve(task({ report() { /* none */ } }, new CancellationTokenSource().token)),
};

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\//g, "(?:.*/)?").replace(/\*/g, "[^/]*");
  return new RegExp(`^${escaped}$`);
}

/** Score like VS Code's `languages.match`: > 0 when a filter of the selector accepts the document. */
function match(selector: unknown, doc: TextDocument): number {
  const filters = Array.isArray(selector) ? selector : [selector];
  for (const filter of filters as { language?: string; scheme?: string; pattern?: string }[]) {
    const ok = (filter.language === undefined || filter.language === doc.languageId)
      && (filter.scheme === undefined || filter.scheme === doc.uri.scheme)
      && (filter.pattern === undefined || globToRegExp(filter.pattern).test(doc.uri.path));
    if (ok) {
      return 10;
    }
  }
  return 0;
}

const languageApi: Record<string, unknown> = {
  match,
  createDiagnosticCollection: (name: string) => {
    const data = recorded.diagnostics;
    return {
      name,
      set: (uri: Uri, diagnostics: unknown[] | undefined) => { data.set(uri.toString(), diagnostics ?? []); },
      get: (uri: Uri) => data.get(uri.toString()),
      delete: (uri: Uri) => data.delete(uri.toString()),
      clear: () => { data.clear(); },
      forEach: (cb: (uri: Uri, d: unknown[]) => void) => { for (const [k, v] of data) { cb(Uri.parse(k), v); } },
      has: (uri: Uri) => data.has(uri.toString()),
      dispose: () => { data.clear(); },
    };
  },
  setTextDocumentLanguage: (doc: TextDocument) => Promise.resolve(doc),
};

export const languages = new Proxy(languageApi, {
  // Every `register…Provider` returns a disposable; the test does not call providers.
  get(target, prop: string): unknown {
    return prop in target ? target[prop] : () => new Disposable();
  },
});

export const env = { language: "de", appName: "fake-vscode", machineId: "test", openExternal: () => Promise.resolve(true) };

export const extensions = { getExtension: () => undefined };

export const ExtensionMode = { Production: 1, Development: 2, Test: 3 };
