/** Makes `require("vscode")` return the fake module; import this before anything that needs `vscode`. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the hook must patch the real module object
import Module = require("node:module");

type Resolve = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolve };
const original = loader._resolveFilename;
const fake = require.resolve("./vscode");

loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return request === "vscode" ? fake : original.call(this, request, ...rest);
};
