"""The warehouse: the only code that knows DuckDB as a store."""
