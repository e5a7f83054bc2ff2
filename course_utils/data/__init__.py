"""Data: sample photos, offline synthetic datasets in real layouts, loaders, downloads."""
