"""The language server: pygls glue between editors and the engine (diagnostics, hovers, quick fixes)."""
