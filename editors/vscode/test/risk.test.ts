// Counting high-risk promises for the status bar, and the status texts.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { countRiskyPromises, isRiskyPromise, statusText, statusTooltip, type DiagnosticLike } from "../src/risk";

const WARNING = 1;
const INFORMATION = 2;

describe("isRiskyPromise", () => {
  it("trusts the server's data when present, whatever the severity", () => {
    const d: DiagnosticLike = { severity: INFORMATION, source: "versprochen", code: "versprochen.Commitment",
      data: { kind: "promise", risk: "high" } };
    assert.equal(isRiskyPromise(d), true);
    assert.equal(isRiskyPromise({ ...d, severity: WARNING, data: { kind: "promise", risk: "medium" } }), false);
    assert.equal(isRiskyPromise({ ...d, data: { kind: "deadline", risk: "high" } }), false);
  });

  it("falls back to the configured severity and leaves vague deadlines out", () => {
    assert.equal(isRiskyPromise({ severity: WARNING, source: "versprochen", code: "versprochen.Commitment" }), true);
    assert.equal(isRiskyPromise({ severity: WARNING, source: "versprochen", code: "versprochen.VagueDeadlines" }), false);
    assert.equal(isRiskyPromise({ severity: INFORMATION, source: "versprochen", code: "versprochen.Commitment" }), false);
    assert.equal(isRiskyPromise({ severity: 0, source: "versprochen", code: "versprochen.Commitment" }, "error"), true);
    assert.equal(isRiskyPromise({ severity: WARNING, source: "versprochen", code: "versprochen.Commitment" }, "off"), false);
  });

  it("ignores other tools' diagnostics and reads object codes", () => {
    assert.equal(isRiskyPromise({ severity: WARNING, source: "cSpell", code: "unknown-word" }), false);
    assert.equal(isRiskyPromise({ severity: WARNING, code: { value: "versprochen.Implicit" } }), true);
  });
});

describe("countRiskyPromises", () => {
  it("counts only the risky promises of a mixed list", () => {
    const list: DiagnosticLike[] = [
      { severity: WARNING, source: "versprochen", code: "versprochen.Commitment" },
      { severity: WARNING, source: "versprochen", code: "versprochen.VagueDeadlines" },
      { severity: INFORMATION, source: "versprochen", code: "versprochen.Anglicisms" },
      { severity: WARNING, source: "versprochen", code: "versprochen.Receive" },
      { severity: WARNING, source: "markdownlint", code: "MD013" },
    ];
    assert.equal(countRiskyPromises(list), 2);
    assert.equal(countRiskyPromises([]), 0);
  });
});

describe("status", () => {
  it("shows state, and the count only when there is something risky", () => {
    assert.equal(statusText("starting", 3), "$(sync~spin) versprochen");
    assert.equal(statusText("error", undefined), "$(error) versprochen");
    assert.equal(statusText("ready", 0), "$(check) versprochen");
    assert.equal(statusText("ready", 1), "$(warning) 1 riskante Zusage");
    assert.equal(statusText("ready", 4), "$(warning) 4 riskante Zusagen");
  });

  it("explains the number in the tooltip", () => {
    assert.match(statusTooltip("ready", 2), /Riskante Zusagen im aktiven Dokument: 2/);
    assert.match(statusTooltip("error", undefined, "Sprachserver nicht gefunden."), /nicht verfügbar\nSprachserver nicht gefunden\./);
  });
});
