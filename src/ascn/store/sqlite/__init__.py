"""The embedded SQLite store: one writer thread, concurrent readers, WAL, durable commits."""
