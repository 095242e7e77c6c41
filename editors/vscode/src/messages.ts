/** User-facing messages that depend on VS Code's display language (German, else English). */
import type { Discovery } from "./discovery";

/** True when the display language (`vscode.env.language`, e.g. "de", "de-AT") is German. */
export function isGerman(language: string): boolean {
  return language.toLowerCase().startsWith("de");
}

export const INSTALL_COMMAND = "pipx install versprochen";

/** The message shown when no server executable was found; names what to install and where to set a path. */
export function serverNotFoundMessage(discovery: Discovery & { found: false }, language: string): string {
  const setting = discovery.reason === "settingNotFound";
  if (isGerman(language)) {
    return setting
      ? "versprochen: Der in „versprochen.server.path“ eingetragene Sprachserver wurde nicht gefunden " +
          `(${discovery.tried[0] ?? ""}). Korrigieren Sie den Pfad oder leeren Sie die Einstellung.`
      : "versprochen: Der Sprachserver „versprochen“ wurde nicht gefunden (weder in der gewählten " +
          `Python-Umgebung noch im PATH). Installieren Sie ihn mit „${INSTALL_COMMAND}“ oder mit ` +
          "„pip install versprochen“ in der gewählten Python-Umgebung, oder tragen Sie den Pfad in " +
          "„versprochen.server.path“ ein.";
  }
  return setting
    ? "versprochen: the language server set in 'versprochen.server.path' was not found " +
        `(${discovery.tried[0] ?? ""}). Fix the path or clear the setting.`
    : "versprochen: the language server 'versprochen' was not found (neither in the selected Python " +
        `environment nor on the PATH). Install it with '${INSTALL_COMMAND}' or 'pip install versprochen' ` +
        "in the selected Python environment, or set 'versprochen.server.path'.";
}

/** Button labels for the not-found message. */
export function buttons(language: string): { settings: string; output: string } {
  return isGerman(language)
    ? { settings: "Einstellungen öffnen", output: "Protokoll anzeigen" }
    : { settings: "Open Settings", output: "Show Log" };
}

/** A short German summary of the server's `checkAll` answer (a count, a message, or nothing in particular). */
export function describeCheckAll(result: unknown): string {
  if (typeof result === "number") {
    return `versprochen: ${result} ${result === 1 ? "Dokument" : "Dokumente"} geprüft.`;
  }
  if (typeof result === "object" && result !== null && "documents" in result) {
    // The server answers {documents, findings, highRisk, <kind>: count, ...}.
    const counts = result as Record<string, unknown>;
    const num = (key: string): number => (typeof counts[key] === "number" ? counts[key] : 0);
    const docs = num("documents");
    const parts = [`${docs} ${docs === 1 ? "Dokument" : "Dokumente"} geprüft`, `${num("findings")} Hinweise`];
    if (num("highRisk") > 0) {
      parts.push(`${num("highRisk")} riskante ${num("highRisk") === 1 ? "Zusage" : "Zusagen"}`);
    }
    return `versprochen: ${parts.join(", ")}.`;
  }
  if (typeof result === "string" && result.trim() !== "") {
    return `versprochen: ${result.trim()}`;
  }
  return "versprochen: Alle offenen Dokumente wurden geprüft.";
}
