// Showing the tracker's open promises: parsing the server answer, dates in German, quick pick, overview.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatDueDe, isOverdue, parseOpenPromises, toMarkdown, toPickItems } from "../src/promises";

const NOW = new Date(2026, 10, 23, 10, 0); // Monday 2026-11-23 10:00, local time

const ANSWER = [
  { id: 7, quote: "Wir schicken Ihnen das Angebot bis Freitag.", subject: "Angebot Umbau", recipients: ["kunde@example.de"],
    due: "2026-11-27", deadline_text: "bis Freitag", risk: "medium", state: "open" },
  { id: 3, quote: "Der Monteur kommt morgen früh.", subject: "Termin", recipients: ["kunde@example.de"],
    due: "2026-11-20", deadline_text: "morgen früh", risk: "high", state: "open" },
  { id: 9, quote: "Ich melde mich zeitnah.", subject: "Rückfrage", recipients: [], due: null,
    deadline_text: "zeitnah", vague: true, state: "open" },
  { id: 10, subject: "kein Zitat" },
  "Unsinn",
];

describe("parseOpenPromises", () => {
  it("keeps promise objects, overdue first, then by due date, undated last", () => {
    const promises = parseOpenPromises(ANSWER, NOW);
    assert.deepEqual(promises.map((p) => p.id), ["3", "7", "9"]);
    assert.deepEqual(promises.map((p) => p.overdue), [true, false, false]);
    assert.equal(promises[2]?.deadlineText, "zeitnah");
  });

  it("reads the server's camelCase answer and prefers its due-date wording", () => {
    const promises = parseOpenPromises([{ id: 1, quote: "Wir rufen an.", deadlineText: "bis Freitag",
      due: "2026-11-27", dueText: "Freitag, 27.11.2026", overdue: false }], NOW);
    assert.equal(promises[0]?.deadlineText, "bis Freitag");
    assert.equal(toPickItems(promises)[0]?.description, "fällig Freitag, 27.11.2026");
  });

  it("accepts an object with a promises list and the server's own overdue flag", () => {
    const promises = parseOpenPromises({ promises: [{ quote: "x", due: "2030-01-01", overdue: true }] }, NOW);
    assert.equal(promises[0]?.overdue, true);
    assert.deepEqual(parseOpenPromises(null, NOW), []);
    assert.deepEqual(parseOpenPromises({ error: "kein Tracker" }, NOW), []);
  });
});

describe("dates", () => {
  it("formats ISO dates and date-times the German way", () => {
    assert.equal(formatDueDe("2026-11-27"), "Fr. 27.11.2026");
    assert.equal(formatDueDe("2026-11-26T14:00"), "Do. 26.11.2026 14:00");
    assert.equal(formatDueDe("2026-02-30"), "2026-02-30");
    assert.equal(formatDueDe("nächste Woche"), "nächste Woche");
  });

  it("treats a date as due until the end of that day", () => {
    assert.equal(isOverdue("2026-11-23", NOW), false);
    assert.equal(isOverdue("2026-11-22", NOW), true);
    assert.equal(isOverdue("2026-11-23T09:00", NOW), true);
    assert.equal(isOverdue("2026-11-23T12:00", NOW), false);
  });
});

describe("presentation", () => {
  const promises = parseOpenPromises(ANSWER, NOW);

  it("builds quick-pick items with due date and subject", () => {
    const items = toPickItems(promises);
    assert.deepEqual(items.map((item) => item.label), [
      "$(warning) Der Monteur kommt morgen früh.",
      "$(clock) Wir schicken Ihnen das Angebot bis Freitag.",
      "$(clock) Ich melde mich zeitnah.",
    ]);
    assert.deepEqual(items.map((item) => item.description), [
      "überfällig seit Fr. 20.11.2026", "fällig Fr. 27.11.2026", "Frist: „zeitnah“ (ohne Datum)",
    ]);
    assert.equal(items[1]?.detail, "Betreff: Angebot Umbau · an kunde@example.de");
  });

  it("writes a Markdown overview", () => {
    const md = toMarkdown(promises, "entwurf.txt");
    assert.match(md, /^# Offene Zusagen an die Empfänger von entwurf\.txt/);
    assert.match(md, /- \*\*Wir schicken Ihnen das Angebot bis Freitag\.\*\*\n {2}- fällig Fr\. 27\.11\.2026 · Risiko: medium/);
    assert.match(toMarkdown([], "x"), /Keine offenen Zusagen gefunden\./);
  });
});
