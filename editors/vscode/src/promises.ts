/**
 * Showing the result of the server command `versprochen.openPromises`: the tracker's open promises to the
 * draft's recipients, as quick-pick items and as a Markdown overview.
 *
 * Expected result (tolerant of missing fields): a list of objects
 * `{id, quote, subject, recipients, due, dueText?, deadlineText, overdue, risk?}` (the server's answer;
 * snake_case `deadline_text` as in the tracker is accepted too), or an object `{promises: [...]}`.
 * Pure, so node's test runner can check it.
 */

/** One open promise as the extension shows it. */
export interface OpenPromise {
  readonly id: string;
  readonly quote: string;
  readonly subject: string;
  readonly recipients: readonly string[];
  readonly due: string | undefined;
  /** The server's own wording of the due date ("Freitag, 27.11.2026"), preferred over ours. */
  readonly dueText: string | undefined;
  readonly deadlineText: string | undefined;
  readonly risk: string | undefined;
  readonly overdue: boolean;
}

/** A quick-pick entry (same fields as `vscode.QuickPickItem`). */
export interface PickItem {
  readonly label: string;
  readonly description: string;
  readonly detail: string;
}

const WEEKDAYS = ["So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."];

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") {
    return value.trim();
  }
  return typeof value === "number" ? String(value) : undefined;
}

function isoDay(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "Fr., 27.11.2026" (plus " 14:00" when a time is given) for an ISO date or date-time; else the input. */
export function formatDueDe(iso: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(iso);
  if (!match) {
    return iso;
  }
  const [, y, m, d, hh, mm] = match;
  const date = new Date(Number(y), Number(m) - 1, Number(d));
  if (Number.isNaN(date.getTime()) || date.getDate() !== Number(d)) {
    return iso;
  }
  const day = `${WEEKDAYS[date.getDay()] ?? ""} ${d ?? ""}.${m ?? ""}.${y ?? ""}`;
  return hh !== undefined && mm !== undefined ? `${day} ${hh}:${mm}` : day;
}

/** True when an ISO due date (or date-time) lies before `now` (a date is due until the end of its day). */
export function isOverdue(due: string, now: Date): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(due)) {
    return due < isoDay(now);
  }
  const parsed = new Date(due);
  return !Number.isNaN(parsed.getTime()) && parsed.getTime() < now.getTime();
}

/** The promises in a command result; anything that is not a promise object is skipped. */
export function parseOpenPromises(result: unknown, now: Date): OpenPromise[] {
  let list: unknown = result;
  if (typeof result === "object" && result !== null && !Array.isArray(result) && "promises" in result) {
    list = result.promises;
  }
  if (!Array.isArray(list)) {
    return [];
  }
  const out: OpenPromise[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== "object" || item === null) {
      continue;
    }
    const record = item as Record<string, unknown>;
    const quote = text(record.quote) ?? text(record.text) ?? text(record.message);
    if (quote === undefined) {
      continue;
    }
    const due = text(record.due);
    const recipients = Array.isArray(record.recipients)
      ? record.recipients.filter((r): r is string => typeof r === "string")
      : [];
    out.push({
      id: text(record.id) ?? "",
      quote,
      subject: text(record.subject) ?? "",
      recipients,
      due,
      dueText: text(record.dueText),
      deadlineText: text(record.deadline_text) ?? text(record.deadlineText),
      risk: text(record.risk),
      overdue: typeof record.overdue === "boolean" ? record.overdue : due !== undefined && isOverdue(due, now),
    });
  }
  // Overdue first, then by due date; promises without a date last.
  return out.sort((a, b) => {
    if (a.overdue !== b.overdue) {
      return a.overdue ? -1 : 1;
    }
    return (a.due ?? "9999").localeCompare(b.due ?? "9999");
  });
}

function dueWords(p: OpenPromise): string {
  if (p.due !== undefined) {
    return `${p.overdue ? "überfällig seit" : "fällig"} ${p.dueText ?? formatDueDe(p.due)}`;
  }
  return p.deadlineText !== undefined ? `Frist: „${p.deadlineText}“ (ohne Datum)` : "ohne Frist";
}

/** Quick-pick entries: the promise as label, the due date as description, subject and recipients as detail. */
export function toPickItems(promises: readonly OpenPromise[]): PickItem[] {
  return promises.map((p) => ({
    label: `${p.overdue ? "$(warning) " : "$(clock) "}${p.quote}`,
    description: dueWords(p),
    detail: [p.subject !== "" ? `Betreff: ${p.subject}` : "", p.recipients.length > 0 ? `an ${p.recipients.join(", ")}` : ""]
      .filter((s) => s !== "")
      .join(" · "),
  }));
}

/** A Markdown overview of the promises, for the read-only virtual document. */
export function toMarkdown(promises: readonly OpenPromise[], draftName: string): string {
  const lines = [`# Offene Zusagen an die Empfänger von ${draftName}`, ""];
  if (promises.length === 0) {
    lines.push("Keine offenen Zusagen gefunden.");
  }
  for (const p of promises) {
    lines.push(`- **${p.quote.replace(/\n/g, " ")}**`);
    lines.push(`  - ${dueWords(p)}${p.risk !== undefined ? ` · Risiko: ${p.risk}` : ""}`);
    if (p.subject !== "") {
      lines.push(`  - Betreff: ${p.subject}`);
    }
    if (p.recipients.length > 0) {
      lines.push(`  - Empfänger: ${p.recipients.join(", ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
