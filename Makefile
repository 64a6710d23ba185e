# The two commands a new user needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint bench lock

run: setup ## install, prepare the model, ingest the sample corpus, ask a sample question
	$(BIN)/zhiku model
	$(BIN)/zhiku ingest samples --collection samples
	$(BIN)/zhiku ask "GPT-1有多少层？参数量是多少？" --collection samples

test: setup ## install, lint, and run every test (real models, real Chroma)
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/python -m pytest -q -ra

setup:
	bash scripts/setup.sh

lint: setup
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/ruff format --check app ingest tests bench

bench: setup ## measure ingest and retrieval; results in docs/benchmarks.md
	$(BIN)/python -m bench

lock: ## regenerate requirements.lock from the current venv
	( echo "# Exact versions of a clean install (pip freeze), used as constraints by scripts/setup.sh."; \
	  echo "# llama-cpp-python is built locally by setup.sh; regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -Eiv '^(llama[-_]cpp[-_]python|zhiku)( |=|$$)' ) > requirements.lock
