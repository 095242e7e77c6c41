/** Which documents the language client sends to the server: languages narrowed by file patterns. */

/** Languages of drafts: plain text, Markdown and mail files (`email` is contributed for `.eml`). */
export const LANGUAGES: readonly string[] = ["plaintext", "markdown", "email"];

/** A document filter in the shape of VS Code's `DocumentFilter` (kept free of the `vscode` module). */
export interface Filter {
  readonly language: string;
  readonly scheme: string;
  readonly pattern?: string;
}

/**
 * Filters for the given patterns: a saved file must have one of the languages and match one of the patterns;
 * an unsaved draft (`untitled:`) has no path to match and is checked by language alone. No patterns (or only
 * blank ones) means every file of those languages.
 */
export function documentSelector(patterns: readonly unknown[] | undefined): Filter[] {
  const globs = (patterns ?? []).filter((p): p is string => typeof p === "string" && p.trim() !== "");
  const filters: Filter[] = [];
  for (const language of LANGUAGES) {
    if (globs.length === 0) {
      filters.push({ language, scheme: "file" });
    } else {
      for (const pattern of globs) {
        filters.push({ language, scheme: "file", pattern: pattern.trim() });
      }
    }
    filters.push({ language, scheme: "untitled" });
  }
  return filters;
}
