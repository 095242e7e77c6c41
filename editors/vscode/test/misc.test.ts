// Document selector, project-config lookup and user messages.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";

import { describeCheckAll, serverNotFoundMessage } from "../src/messages";
import { configCandidates } from "../src/projectConfig";
import { documentSelector } from "../src/selector";

describe("documentSelector", () => {
  it("narrows files by pattern and language, and always includes unsaved drafts", () => {
    const filters = documentSelector(["**/*.eml", " **/*.txt "]);
    assert.deepEqual(filters.filter((f) => f.language === "plaintext"), [
      { language: "plaintext", scheme: "file", pattern: "**/*.eml" },
      { language: "plaintext", scheme: "file", pattern: "**/*.txt" },
      { language: "plaintext", scheme: "untitled" },
    ]);
    assert.equal(filters.length, 9);
  });

  it("takes every file of the languages when no usable pattern is set", () => {
    for (const patterns of [[], ["", 3], undefined]) {
      assert.deepEqual(documentSelector(patterns).filter((f) => f.scheme === "file").map((f) => f.language),
        ["plaintext", "markdown", "email"]);
    }
  });
});

describe("configCandidates", () => {
  it("walks from the document's folder up to the workspace root", () => {
    assert.deepEqual(configCandidates("/w/mails/kunde", "/w", path.posix), [
      "/w/mails/kunde/versprochen.toml", "/w/mails/versprochen.toml", "/w/versprochen.toml",
    ]);
  });

  it("never looks outside the workspace folder", () => {
    assert.deepEqual(configCandidates("/tmp/x", "/w", path.posix), ["/w/versprochen.toml"]);
    assert.deepEqual(configCandidates("/w2", "/w", path.posix), ["/w/versprochen.toml"]);
    assert.deepEqual(configCandidates(undefined, "/w", path.posix), ["/w/versprochen.toml"]);
  });
});

describe("messages", () => {
  it("says what to install, in German or English", () => {
    const missing = { found: false, reason: "notFound", tried: ["/usr/bin/versprochen"] } as const;
    assert.match(serverNotFoundMessage(missing, "de"), /pipx install versprochen.*versprochen\.server\.path/s);
    assert.match(serverNotFoundMessage(missing, "en-US"), /Install it with 'pipx install versprochen'/);
    const bad = { found: false, reason: "settingNotFound", tried: ["/opt/x"] } as const;
    assert.match(serverNotFoundMessage(bad, "de-AT"), /eingetragene Sprachserver wurde nicht gefunden \(\/opt\/x\)/);
  });

  it("summarises the checkAll answer", () => {
    assert.equal(describeCheckAll(1), "versprochen: 1 Dokument geprüft.");
    assert.equal(describeCheckAll(3), "versprochen: 3 Dokumente geprüft.");
    assert.equal(describeCheckAll(null), "versprochen: Alle offenen Dokumente wurden geprüft.");
    assert.equal(describeCheckAll({ documents: 2, findings: 5, highRisk: 1, promise: 2 }),
      "versprochen: 2 Dokumente geprüft, 5 Hinweise, 1 riskante Zusage.");
    assert.equal(describeCheckAll({ documents: 1, findings: 0 }), "versprochen: 1 Dokument geprüft, 0 Hinweise.");
  });
});
