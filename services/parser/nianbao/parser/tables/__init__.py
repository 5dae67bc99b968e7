"""Table readers: one per canonical table, each turning a token stream into a :class:`TableResult`."""
