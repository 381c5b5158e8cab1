# The two commands of README.md. Each creates/reuses .venv (tools/setup_env.sh).
PY := .venv/bin/python

.PHONY: demo test venv
venv:
	@bash tools/setup_env.sh

demo: venv
	$(PY) tools/demo.py

test: venv
	$(PY) -m pytest -q tests
