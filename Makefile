# The two commands a new user needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test unit setup browser postgres lint bench eval eval-defaults lock screenshot

run: setup ## install, prepare the model, open the web chat (samples indexed on first start)
	$(BIN)/zhiku model
	$(BIN)/zhiku chat

demo: setup ## the same in a terminal: ingest the samples, answer one question
	$(BIN)/zhiku ingest samples --collection samples
	$(BIN)/zhiku ask "GPT-1有多少层？参数量是多少？" --collection samples

test: setup browser postgres ## install, lint, type-check, and run every test (real models, real Chroma, real browser)
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -ra tests/unit tests/integration tests/security

unit: setup ## the fast suite: pure logic, no models, no ../shared (seconds)
	$(BIN)/python -m pytest -q tests/unit

screenshot: setup browser ## refresh the README's pictures (docs/screenshots/: the chat, the first hour, the admin page)
	CHAT_SCREENSHOT=$(CURDIR)/docs/screenshots/chat.png $(BIN)/python -m pytest -q \
	    "tests/integration/test_ui_browser.py::test_ask_in_a_real_browser_and_see_sources"
	ADMIN_SCREENSHOT=$(CURDIR)/docs/screenshots/admin.png $(BIN)/python -m pytest -q \
	    tests/integration/test_team_walkthrough.py
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q \
	    "tests/integration/test_first_hour.py::test_the_first_hour"

setup:
	bash scripts/setup.sh

browser: ## Debian's chromium for the browser test (apt; no browser download exists here)
	bash scripts/setup-browser.sh

postgres: ## Debian's PostgreSQL binaries for the several-writers test (it starts its own server)
	bash scripts/setup-postgres.sh

lint: setup ## ruff, the layer contracts, mypy
	$(BIN)/ruff check app ingest tests bench
	$(BIN)/ruff format --check app ingest tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy  # app/ and ingest/, configured in pyproject.toml ([tool.mypy])

bench: setup ## measure ingest and retrieval; results in docs/benchmarks.md
	$(BIN)/python -m bench

# The strategy comparison measures the model alone (ZHIKU_ABSTAIN=false); abstention has its
# own measurement: python -m bench abstention. These folders were recorded with the 0.5B
# model (the default until issue 13) at k = 5 and k = 3; `make eval-defaults` scores the
# current defaults (docs/benchmarks.md, "Answers a user can trust").
eval: export ZHIKU_LLM_MODEL = qwen2.5-coder-0.5b
eval: setup ## score both shared question sets (about 1.5 hours on 2 cores); results in docs/eval/
	$(BIN)/zhiku eval compare --qa ../shared/eval/cmrc2018_trial.jsonl \
	    --corpus ../shared/corpora/cmrc2018_trial --retrieval-only --out docs/eval/cmrc2018_trial-retrieval --resume \
	    --run zero-shot:hybrid --run zero-shot:dense --run zero-shot:bm25
	ZHIKU_ABSTAIN=false $(BIN)/zhiku eval compare --qa ../shared/eval/llm_articles.dev.jsonl \
	    --corpus ../shared/corpora/llm_articles --k 5 --out docs/eval/llm_articles --resume
	ZHIKU_ABSTAIN=false $(BIN)/zhiku eval compare --qa ../shared/eval/llm_articles.dev.jsonl \
	    --corpus ../shared/corpora/llm_articles --k 3 --out docs/eval/llm_articles-k3 --resume \
	    --run zero-shot:hybrid --run few-shot:hybrid --run cot:hybrid
	ZHIKU_ABSTAIN=false $(BIN)/zhiku eval compare --qa ../shared/eval/cmrc2018_trial.jsonl \
	    --corpus ../shared/corpora/cmrc2018_trial --limit 20 --k 5 --out docs/eval/cmrc2018_trial-answers \
	    --resume
	ZHIKU_ABSTAIN=false $(BIN)/zhiku eval compare --qa ../shared/eval/cmrc2018_trial.jsonl \
	    --corpus ../shared/corpora/cmrc2018_trial --limit 20 --k 3 --out docs/eval/cmrc2018_trial-answers-k3 \
	    --resume --run zero-shot:hybrid --run zero-shot:dense --run zero-shot:bm25

# The shipped defaults (1.5B, grounded, k = 3, abstention on) on llm_articles dev + the 30
# unanswerable questions, the samples set and the first 100 CMRC2018 trial questions
# (about 45 minutes; docs/benchmarks.md, "Answers a user can check").
eval-defaults: setup ## score the default configuration; results in docs/eval/answers-2026-12-grounded
	$(BIN)/zhiku eval --qa ../shared/eval/llm_articles.dev.jsonl \
	    --qa bench/questions/llm_articles.unanswerable.jsonl --corpus ../shared/corpora/llm_articles \
	    --no-perplexity --out docs/eval/answers-2026-12-grounded/llm-default
	$(BIN)/zhiku eval --qa bench/questions/samples.jsonl --corpus samples \
	    --no-perplexity --out docs/eval/answers-2026-12-grounded/samples-default
	$(BIN)/zhiku eval --qa ../shared/eval/cmrc2018_trial.jsonl --corpus ../shared/corpora/cmrc2018_trial \
	    --limit 100 --no-perplexity --out docs/eval/answers-2026-12-grounded/cmrc-default-first100

lock: ## regenerate requirements.lock from the current venv
	( echo "# Exact versions of a clean install (pip freeze), used as constraints by scripts/setup.sh."; \
	  echo "# llama-cpp-python is built locally by setup.sh; regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -Eiv '^(llama[-_]cpp[-_]python|zhiku)( |=|$$)' ) > requirements.lock
