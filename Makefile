# The two commands the README names. Both set up .venv first (cheap when it is up to date).
.PHONY: demo test setup lint

demo:
	scripts/setup.sh
	.venv/bin/aimv render examples/demo.wav -o demo-out/demo.mp4

test:
	scripts/setup.sh --dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest

setup:
	scripts/setup.sh --dev

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
