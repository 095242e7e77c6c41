"""versprochen: promises, deadlines and jargon in German business mail."""

__version__ = "0.1.0"
