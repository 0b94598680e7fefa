"""Infrastructure for gridcore: stores, codecs, crypto-shredding, importers, CLI."""
