"""The promise tracker: the SQLite store, kept detection, the review CLI and reminders."""
