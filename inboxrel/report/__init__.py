"""Read side: queries that return plain rows (metrics, people, threads, stats) and their renderers."""
