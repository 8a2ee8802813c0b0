"""clair-bot's benchmark suite: what `make bench` (``python -m benchmarks``) runs.

A benchmark, not a timed test: it measures and prints, and never fails on a figure.
Each section (matcher latency and accuracy, start-up, escalations, end to end) is a
function that takes the shared `Context` and returns a `SectionResult`: rows for the
printed table and figures for the JSON line that ends the output. A new section is one
more function in `benchmarks.__main__.SECTIONS`.
"""
