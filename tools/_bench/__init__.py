"""tools/benchmark.py's parts: :mod:`.catalog` (models, variants, accuracy,
machine), :mod:`.measure` (one measurement per worker process),
:mod:`.profile` (time by operator class), :mod:`.report` (tables, files,
plot)."""
