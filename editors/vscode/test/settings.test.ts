// Settings mapping: manifest defaults against the shared contract, and VS Code values to nested settings.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import {
  EXTENSION_ONLY_KEYS,
  buildServerSettings,
  defaultServerSettings,
  expandPath,
  manifestProperties,
  pick,
  serverSettingSpecs,
  validate,
} from "../src/settings";

const manifest: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
const specs = serverSettingSpecs(manifest);

// The settings contract shared with the server (DESIGN: language-server settings), defaults included.
const CONTRACT = {
  enable: { promises: true, deadlines: true, jargon: true, deliveries: true },
  severity: {
    highRiskPromise: "warning", mediumRiskPromise: "information", lowRiskPromise: "hint",
    delivery: "hint", vagueDeadline: "warning", jargon: "information",
  },
  tracker: { path: "" },
  lexicon: { extraFolders: [] },
  referenceTime: "dateHeader",
  maxDocumentChars: 1000000,
};

/** A fake `WorkspaceConfiguration.get` over a nested object, like VS Code's dotted lookup. */
function fakeGet(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => key.split(".").reduce<unknown>(
    (node, part) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    values,
  );
}

describe("manifest", () => {
  it("declares exactly the contract's server settings with its defaults", () => {
    assert.deepEqual(defaultServerSettings(manifest), CONTRACT);
  });

  it("keeps the extension-only settings out of the server settings", () => {
    const keys = specs.map((s) => s.key);
    for (const key of EXTENSION_ONLY_KEYS) {
      assert.ok(manifestProperties(manifest).has(key), `${key} missing from package.json`);
      assert.ok(!keys.includes(key), `${key} must not be sent to the server`);
    }
  });

  it("offers the five severity levels for every severity setting", () => {
    const severities = specs.filter((s) => s.key.startsWith("severity."));
    assert.equal(severities.length, 6);
    for (const spec of severities) {
      assert.deepEqual(spec.enum, ["error", "warning", "information", "hint", "off"]);
    }
  });
});

describe("buildServerSettings", () => {
  const context = { workspaceFolder: "/home/anna/projekt", home: "/home/anna" };

  it("maps flat VS Code values into the nested wire shape", () => {
    const { settings, problems } = buildServerSettings(specs, fakeGet({
      enable: { jargon: false },
      severity: { highRiskPromise: "error", jargon: "off" },
      referenceTime: "now",
      maxDocumentChars: 5000,
      server: { path: "/usr/bin/versprochen" },
    }), context);
    assert.deepEqual(problems, []);
    assert.equal(pick(settings, "enable.jargon"), false);
    assert.equal(pick(settings, "enable.promises"), true);
    assert.equal(pick(settings, "severity.highRiskPromise"), "error");
    assert.equal(pick(settings, "severity.jargon"), "off");
    assert.equal(pick(settings, "severity.delivery"), "hint");
    assert.equal(settings.referenceTime, "now");
    assert.equal(settings.maxDocumentChars, 5000);
    assert.equal(pick(settings, "server"), undefined);
  });

  it("replaces invalid values by the default and says so in German", () => {
    const { settings, problems } = buildServerSettings(specs, fakeGet({
      severity: { vagueDeadline: "laut" },
      enable: { deadlines: "ja" },
      maxDocumentChars: 12.5,
      lexicon: { extraFolders: ["regeln", 3] },
    }), context);
    assert.equal(pick(settings, "severity.vagueDeadline"), "warning");
    assert.equal(pick(settings, "enable.deadlines"), true);
    assert.equal(settings.maxDocumentChars, 1000000);
    assert.deepEqual(pick(settings, "lexicon.extraFolders"), []);
    assert.equal(problems.length, 4);
    assert.match(problems.join("\n"), /versprochen\.severity\.vagueDeadline: ungültiger Wert "laut" \(erlaubt: error, warning, information, hint, off\)/);
    assert.match(problems.join("\n"), /Standardwert 1000000 wird verwendet/);
  });

  it("rejects a document limit below the manifest's minimum", () => {
    const { settings, problems } = buildServerSettings(specs, fakeGet({ maxDocumentChars: 10 }), context);
    assert.equal(settings.maxDocumentChars, 1000000);
    assert.match(problems[0] ?? "", /mindestens 1000/);
  });

  it("resolves ~, ${workspaceFolder} and relative paths of path settings only", () => {
    const { settings } = buildServerSettings(specs, fakeGet({
      tracker: { path: "~/daten/tracker.sqlite3" },
      lexicon: { extraFolders: ["regeln", "${workspaceFolder}/team", "/opt/regeln"] },
    }), context);
    assert.equal(pick(settings, "tracker.path"), "/home/anna/daten/tracker.sqlite3");
    assert.deepEqual(pick(settings, "lexicon.extraFolders"),
      ["/home/anna/projekt/regeln", "/home/anna/projekt/team", "/opt/regeln"]);
  });

  it("keeps an empty tracker path empty (server default location)", () => {
    const { settings } = buildServerSettings(specs, fakeGet({ tracker: { path: "  " } }), context);
    assert.equal(pick(settings, "tracker.path"), "");
  });
});

describe("helpers", () => {
  it("expandPath leaves relative paths alone without a workspace folder", () => {
    assert.equal(expandPath("regeln", { home: "/h" }), "regeln");
    assert.equal(expandPath("C:\\Regeln", { workspaceFolder: "D:\\p", home: "/h" }, "\\"), "C:\\Regeln");
    assert.equal(expandPath("regeln", { workspaceFolder: "D:\\p", home: "/h" }, "\\"), "D:\\p\\regeln");
  });

  it("validate checks types the way the manifest declares them", () => {
    const spec = { key: "x", type: "integer", default: 1, minimum: 1 };
    assert.equal(validate(spec, 3), undefined);
    assert.notEqual(validate(spec, "3"), undefined);
    assert.notEqual(validate({ key: "y", type: "object", default: null }, {}), undefined);
  });

  it("pick follows dotted paths and stops at leaves", () => {
    const settings = { a: { b: { c: 1 } }, d: 2 };
    assert.deepEqual(pick(settings, "a.b"), { c: 1 });
    assert.equal(pick(settings, "d.e"), undefined);
  });
});
