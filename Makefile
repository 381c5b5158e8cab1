# The two commands of README.md. Each creates/reuses .venv (tools/setup_env.sh).
PY := .venv/bin/python

.PHONY: demo test venv
venv:
	@bash tools/setup_env.sh

demo: venv
	$(PY) tools/demo.py --record docs/demo.json

# one test process per core (pytest-xdist, at most 4; idle ones steal
# queued tests), each computing on one thread (tests/conftest.py)
test: venv
	$(PY) -m pytest -q -n auto --maxprocesses=4 --dist worksteal tests
