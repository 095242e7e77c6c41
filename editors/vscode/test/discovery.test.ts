// Server discovery with a fake file system: setting, Python environment, PATH, and what was tried.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { discoverServer, executableNames, pythonCandidates, type DiscoveryInput } from "../src/discovery";

function input(files: string[], overrides: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const present = new Set(files);
  return {
    settingPath: "",
    workspaceFolder: "/home/anna/projekt",
    home: "/home/anna",
    envPath: "/usr/local/bin:/usr/bin",
    platform: "linux",
    isExecutable: (file) => present.has(file),
    ...overrides,
  };
}

describe("discoverServer", () => {
  it("prefers the setting over the Python environment and the PATH", () => {
    const result = discoverServer(input(["/opt/v/bin/versprochen", "/usr/bin/versprochen"], {
      settingPath: "/opt/v/bin/versprochen",
    }));
    assert.deepEqual(result, { found: true, command: "/opt/v/bin/versprochen", source: "setting" });
  });

  it("does not fall back when the configured path is missing", () => {
    const result = discoverServer(input(["/usr/bin/versprochen"], { settingPath: "~/bin/versprochen" }));
    assert.deepEqual(result, { found: false, reason: "settingNotFound", tried: ["/home/anna/bin/versprochen"] });
  });

  it("resolves a relative setting against the workspace folder", () => {
    const result = discoverServer(input(["/home/anna/projekt/.venv/bin/versprochen"], {
      settingPath: ".venv/bin/versprochen",
    }));
    assert.equal(result.found && result.command, "/home/anna/projekt/.venv/bin/versprochen");
  });

  it("looks a bare command name in the setting up on the PATH", () => {
    const result = discoverServer(input(["/usr/bin/versprochen-dev"], { settingPath: "versprochen-dev" }));
    assert.deepEqual(result, { found: true, command: "/usr/bin/versprochen-dev", source: "setting" });
  });

  it("uses the selected interpreter's environment before the PATH", () => {
    const result = discoverServer(input(["/home/anna/projekt/.venv/bin/versprochen", "/usr/bin/versprochen"], {
      python: { executable: "/home/anna/projekt/.venv/bin/python", sysPrefix: "/home/anna/projekt/.venv" },
    }));
    assert.deepEqual(result, { found: true, command: "/home/anna/projekt/.venv/bin/versprochen", source: "python" });
  });

  it("falls back to the PATH when the environment has no versprochen", () => {
    const result = discoverServer(input(["/usr/bin/versprochen"], {
      python: { executable: "/opt/py/bin/python3", sysPrefix: "/opt/py" },
    }));
    assert.deepEqual(result, { found: true, command: "/usr/bin/versprochen", source: "path" });
  });

  it("lists every file it tried when nothing is found", () => {
    const result = discoverServer(input([], { python: { executable: "/p/.venv/bin/python", sysPrefix: "/p/.venv" } }));
    assert.deepEqual(result, {
      found: false,
      reason: "notFound",
      tried: ["/p/.venv/bin/versprochen", "/usr/local/bin/versprochen", "/usr/bin/versprochen"],
    });
  });

  it("finds Scripts\\versprochen.exe on Windows, including conda layouts", () => {
    const env = { executable: "C:\\conda\\envs\\mail\\python.exe", sysPrefix: "C:\\conda\\envs\\mail" };
    assert.deepEqual(pythonCandidates(env, "win32"), [
      "C:\\conda\\envs\\mail\\versprochen.exe",
      "C:\\conda\\envs\\mail\\Scripts\\versprochen.exe",
    ]);
    const result = discoverServer(input(["C:\\conda\\envs\\mail\\Scripts\\versprochen.exe"], {
      platform: "win32", workspaceFolder: "C:\\p", home: "C:\\Users\\anna", envPath: "C:\\Windows", python: env,
    }));
    assert.deepEqual(result, { found: true, command: "C:\\conda\\envs\\mail\\Scripts\\versprochen.exe", source: "python" });
  });

  it("searches the Windows PATH for .exe only, with quoted entries", () => {
    assert.deepEqual(executableNames("versprochen", "win32"), ["versprochen.exe"]);
    const result = discoverServer(input(["C:\\Program Files\\pipx\\versprochen.exe"], {
      platform: "win32", workspaceFolder: undefined, home: "C:\\Users\\anna",
      envPath: "C:\\Windows;\"C:\\Program Files\\pipx\"",
    }));
    assert.deepEqual(result, { found: true, command: "C:\\Program Files\\pipx\\versprochen.exe", source: "path" });
  });

  it("skips empty PATH entries instead of trying the working directory", () => {
    const result = discoverServer(input(["versprochen"], { envPath: "::" }));
    assert.deepEqual(result, { found: false, reason: "notFound", tried: [] });
  });
});
