/**
 * Counting the risky (high-risk) promises among a document's diagnostics, for the status bar.
 *
 * A diagnostic counts when it is ours (source `versprochen` or code `versprochen.*`) and either its `data`
 * says `{"kind": "promise", "risk": "high"}` (preferred: survives any severity setting), or, for a server
 * that sends no `data`, it has the severity configured for high-risk promises and is not a vague deadline
 * (the only other finding that defaults to a warning).
 */

/** LSP/VS Code severities (`vscode.DiagnosticSeverity` uses the same numbers, zero-based). */
export const SEVERITY_NUMBER: Readonly<Record<string, number>> = {
  error: 0,
  warning: 1,
  information: 2,
  hint: 3,
};

export const VAGUE_DEADLINE_CODE = "versprochen.VagueDeadlines";

/** The fields of a `vscode.Diagnostic` (or languageclient's `ProtocolDiagnostic`) that the count reads. */
export interface DiagnosticLike {
  readonly severity: number;
  readonly source?: string | undefined;
  readonly code?: string | number | { readonly value: string | number } | undefined;
  readonly data?: unknown;
}

/** The diagnostic's code as text (`code` may be an object with a link target). */
export function codeOf(diagnostic: DiagnosticLike): string {
  const code = diagnostic.code;
  if (code === undefined) {
    return "";
  }
  return typeof code === "object" ? String(code.value) : String(code);
}

/** True when the diagnostic marks a high-risk promise; `highRiskSeverity` is the configured level name. */
export function isRiskyPromise(diagnostic: DiagnosticLike, highRiskSeverity = "warning"): boolean {
  const code = codeOf(diagnostic);
  if (diagnostic.source !== "versprochen" && !code.startsWith("versprochen.")) {
    return false;
  }
  const data = diagnostic.data;
  if (typeof data === "object" && data !== null && "risk" in data) {
    const record = data as { risk?: unknown; kind?: unknown };
    return record.risk === "high" && (record.kind === undefined || record.kind === "promise");
  }
  const level = SEVERITY_NUMBER[highRiskSeverity];
  return level !== undefined && diagnostic.severity === level && code !== VAGUE_DEADLINE_CODE;
}

/** How many of the diagnostics mark high-risk promises. */
export function countRiskyPromises(diagnostics: readonly DiagnosticLike[], highRiskSeverity = "warning"): number {
  return diagnostics.filter((d) => isRiskyPromise(d, highRiskSeverity)).length;
}

export type ServerState = "starting" | "ready" | "error" | "stopped";

/** The status-bar text for a server state and the active document's count (undefined: no checked document). */
export function statusText(state: ServerState, risky: number | undefined): string {
  switch (state) {
    case "starting":
      return "$(sync~spin) versprochen";
    case "error":
      return "$(error) versprochen";
    case "stopped":
      return "$(circle-slash) versprochen";
    case "ready":
      if (risky === undefined || risky === 0) {
        return "$(check) versprochen";
      }
      return `$(warning) ${risky} ${risky === 1 ? "riskante Zusage" : "riskante Zusagen"}`;
  }
}

/** The status-bar tooltip: the state in words and what the number means. */
export function statusTooltip(state: ServerState, risky: number | undefined, detail = ""): string {
  const head: Record<ServerState, string> = {
    starting: "versprochen: Sprachserver startet …",
    ready: "versprochen: Sprachserver bereit",
    error: "versprochen: Sprachserver nicht verfügbar",
    stopped: "versprochen: Sprachserver angehalten",
  };
  const lines = [head[state]];
  if (detail !== "") {
    lines.push(detail);
  }
  if (state === "ready" && risky !== undefined) {
    lines.push(
      risky === 0
        ? "Keine riskanten Zusagen im aktiven Dokument."
        : `Riskante Zusagen im aktiven Dokument: ${risky}`,
    );
  }
  lines.push("Klicken für das Protokoll des Sprachservers.");
  return lines.join("\n");
}
