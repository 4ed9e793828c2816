# aiolab: the front door. `make` alone lists the targets.
#
# Every target first runs `deps`, which installs any missing Debian package, so a fresh
# machine needs nothing but this file. The build itself is CMake (CMakePresets.json);
# each preset builds into build/<preset>/.

SHELL := /bin/bash
.DEFAULT_GOAL := help
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON ?= python3

# What the project needs from Debian (Ubuntu 22.04 has the same package names).
PACKAGES := cmake ninja-build g++ make patch python3 catch2 nlohmann-json3-dev libbenchmark-dev liburing-dev pkg-config \
            bubblewrap inotify-tools mkdocs mkdocs-material python3-pymdownx
CLANG_PACKAGES := clang-16

WORKBOOK := $(PYTHON) labs/tools/workbook.py

.PHONY: help deps deps-clang docs docs-serve figures figures-traces figures-bench gradescope student-release configure build test test-asan test-tsan test-clang bench \
        grade check watch hint reset progress format clean

help: ## Show this list
	@echo "aiolab: rebuild Python's asyncio in C++20, one lab at a time."
	@echo
	@echo "Main commands:"
	@echo "  make grade              grade your labs (hidden tests + benchmarks) -> build/grade/results.json"
	@echo "  make test               build everything and run every test of the project"
	@echo
	@echo "Working on a lab (LAB=3, 03 or 03_future):"
	@echo "  make check LAB=03       build one lab and run its public tests"
	@echo "  make watch LAB=03       re-run the checks every time you save"
	@echo "  make hint LAB=03        show the next hint"
	@echo "  make reset LAB=03       restore the starter files (keeps a backup of yours)"
	@echo "  make progress           public tests passed, lab by lab"
	@echo
	@echo "All targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-14s %s\n", $$1, $$2}'

deps: ## Install the Debian packages that are missing (apt-get)
	@$(call install_missing,$(PACKAGES))

deps-clang: deps ## Also install clang (for test-clang)
	@$(call install_missing,$(CLANG_PACKAGES))

# $(call install_missing,<packages>): apt-get install those not installed yet.
define install_missing
missing=""; \
for package in $(1); do \
  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then sudo=""; \
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; \
  else echo "aiolab needs these Debian packages:$$missing"; \
       echo "Install them as root:  apt-get install -y$$missing"; exit 1; fi; \
  echo "Installing:$$missing"; \
  $$sudo apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null && \
  echo "Installed:$$missing"; \
fi
endef

# $(call configure,<preset>): configure build/<preset> once (CMake re-runs itself later).
define configure
if [ ! -f build/$(1)/build.ninja ]; then cmake --preset $(1) >/dev/null || cmake --preset $(1); fi
endef

# $(call run_ctest,<preset>,<extra ctest args>): run the tests, then print a short summary.
define run_ctest
mkdir -p build/$(1); log=build/$(1)/ctest.log; \
if ctest --preset $(1) -j $(JOBS) $(2) > $$log 2>&1; then status=0; else status=$$?; fi; \
grep -E "tests passed|tests failed|Total Test time" $$log || true; \
if [ $$status -ne 0 ]; then \
  sed -n '/The following tests FAILED/,$$p' $$log; \
  echo "Full log: $$log  (one test: ctest --preset $(1) -R '<name>' --output-on-failure)"; \
fi; \
exit $$status
endef

configure: deps
	@$(call configure,dev)

build: deps ## Build the runtime, the labs, the solutions and the tests (build/dev)
	@$(call configure,dev)
	@cmake --build --preset dev -j $(JOBS)

test: build ## Build everything and run all tests through CTest (build/dev)
	@$(call run_ctest,dev,)

test-asan: deps ## Build and run all tests under AddressSanitizer + UBSan (build/asan)
	@$(call configure,asan)
	@cmake --build --preset asan -j $(JOBS)
	@$(call run_ctest,asan,)

test-tsan: deps ## Build and run the runtime's tests under ThreadSanitizer (build/tsan)
	@$(call configure,tsan)
	@cmake --build --preset tsan -j $(JOBS)
	@$(call run_ctest,tsan,-L aio)

test-clang: deps-clang ## Build and run all tests with clang++-16 (build/clang)
	@$(call configure,clang)
	@cmake --build --preset clang -j $(JOBS)
	@$(call run_ctest,clang,)

bench: deps ## Run aio's benchmarks; JSON in build/bench/
	@$(call configure,release)
	@cmake --build --preset release -j $(JOBS) --target aio_bench
	@mkdir -p build/bench
	@for program in build/release/common/bench/aio_bench_*; do \
	  name=$$(basename $$program); echo "== $$name"; \
	  $$program --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
	    --benchmark_out=build/bench/$$name.json --benchmark_out_format=json | grep -E "median|^-|Benchmark" ; \
	done
	@echo "JSON written to build/bench/"

grade: deps ## Grade labs/ (or SUBMISSION=path): score table + build/grade/results.json
	@$(PYTHON) autograder/grade.py $(or $(SUBMISSION),labs) --output build/grade/results.json $(GRADE_FLAGS)

gradescope: deps ## Package the autograder for Gradescope: build/gradescope/autograder.zip
	@$(PYTHON) autograder/gradescope/make_zip.py

student-release: deps ## The students' archive (no solutions, no hidden tests): build/release/
	@$(PYTHON) autograder/release/make_student_release.py

check: deps ## Build one lab (LAB=NN) and run its public tests
	@$(WORKBOOK) check $(LAB)

watch: deps ## Re-run `check` on every save (LAB=NN)
	@$(WORKBOOK) watch $(LAB)

hint: ## Print the next hint for a lab (LAB=NN)
	@$(WORKBOOK) hint $(LAB)

reset: ## Restore a lab's starter files, after a confirmation (LAB=NN)
	@$(WORKBOOK) reset $(LAB)

progress: deps ## Public tests passed per lab, with a progress bar
	@$(WORKBOOK) progress

# The book's benchmark figures (docs/figures/, committed): aio's benchmarks and each lab's
# reference-solution benchmark (solution_NN_bench), run briefly, plotted by
# docs/tools/bench_plot.py. Its own Release build: the release preset builds no labs
# (they need AIO_BUILD_TESTS), and only the benchmark programs are built here. About a
# minute, most of it the first build.
FIGURES_BUILD := build/figures
BENCH_FLAGS := --benchmark_min_time=0.05 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

figures-bench: deps ## Re-run the benchmarks briefly and redraw the book's plots (docs/figures/)
	@cmake --preset release -B $(FIGURES_BUILD) -DAIO_BUILD_TESTS=ON >/dev/null
	@targets=$$(ninja -C $(FIGURES_BUILD) -t targets all | grep -oE '^(aio_bench_[a-z0-9_]+|solution_[0-9]+_bench):' | tr -d ':' | sort -u); \
	  cmake --build $(FIGURES_BUILD) -j $(JOBS) --target $$targets
	@rm -rf $(FIGURES_BUILD)/json && mkdir -p $(FIGURES_BUILD)/json docs/figures
	@for program in $$(find $(FIGURES_BUILD) -type f -executable \( -name 'aio_bench_*' -o -name 'solution_*_bench' \) | sort); do \
	  name=$$(basename $$program); echo "== $$name"; \
	  $$program $(BENCH_FLAGS) --benchmark_out=$(FIGURES_BUILD)/json/$$name.json \
	    --benchmark_out_format=json > $(FIGURES_BUILD)/json/$$name.log 2>&1 \
	    || { cat $(FIGURES_BUILD)/json/$$name.log; exit 1; }; \
	done
	@rm -f docs/figures/aio_bench_*.svg docs/figures/solution_*_bench*.svg
	@$(PYTHON) docs/tools/bench_plot.py -o docs/figures --counter items_per_second \
	  $$(ls $(FIGURES_BUILD)/json/*.json | grep -v aio_bench_memory)
	@$(PYTHON) docs/tools/bench_plot.py -o docs/figures --counter bytes_per_task $(FIGURES_BUILD)/json/aio_bench_memory.json
	@{ echo "date:      $$(date -u '+%Y-%m-%d %H:%M UTC')"; \
	   echo "cpu:       $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $$(nproc) cores"; \
	   echo "load:      $$(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"; \
	   echo "compiler:  $$($$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' $(FIGURES_BUILD)/CMakeCache.txt) --version | head -1), Release (-O3)"; \
	   echo "command:   make figures-bench  (each program: $(BENCH_FLAGS))"; \
	 } > docs/figures/bench_machine.txt
	@cat docs/figures/bench_machine.txt

# The book's trace pictures (docs/figures/trace_*.svg, committed): the trace samples of
# docs/examples/ run with a trace path, and docs/tools/trace_svg.py draws each trace. The
# virtual-time samples draw the same picture on every machine; trace_cpu_io runs on the real
# clock (its steps are busy loops), so its bars move a little from run to run.
TRACE_FIGURES := trace_cpu_io trace_fetch trace_cancel_gather trace_task_group
TRACE_JSON := build/dev/figures

figures-traces: deps ## Re-run the trace samples and redraw their pictures (docs/figures/trace_*.svg)
	@$(call configure,dev)
	@cmake --build --preset dev -j $(JOBS) --target $(addprefix doc_,$(TRACE_FIGURES))
	@mkdir -p $(TRACE_JSON) docs/figures
	@for name in $(TRACE_FIGURES); do build/dev/docs/doc_$$name $(TRACE_JSON)/$$name.json >/dev/null || exit 1; done
	@$(PYTHON) docs/tools/trace_svg.py $(TRACE_JSON)/trace_cpu_io.json --thread -o docs/figures/trace_cpu_io.svg \
	  --title "Three tasks on one thread: CPU-bound steps, I/O-bound waits"
	@$(PYTHON) docs/tools/trace_svg.py $(TRACE_JSON)/trace_fetch.json -o docs/figures/trace_fetch.svg \
	  --title "Three fetches, one after the other, then concurrently (gather)"
	@$(PYTHON) docs/tools/trace_svg.py $(TRACE_JSON)/trace_cancel_gather.json -o docs/figures/trace_cancel_gather.svg \
	  --title "Cancelling a task that awaits a gather cancels the children"
	@$(PYTHON) docs/tools/trace_svg.py $(TRACE_JSON)/trace_task_group.json -o docs/figures/trace_task_group.svg \
	  --title "A TaskGroup whose task fails cancels the others"
	@echo "docs/figures/: $(addsuffix .svg,$(TRACE_FIGURES))"

figures: figures-traces figures-bench ## Redraw the book's pictures (docs/figures/)

# `make docs` redraws the trace pictures (quick, and the same on every machine but one);
# the benchmark plots are redrawn only by `make figures-bench`, since they take minutes and
# show the machine they ran on (docs/figures/bench_machine.txt).
docs: deps figures-traces ## Build the book into build/site/ (strict: broken links fail)
	@mkdocs build --strict --quiet --config-file mkdocs.yml
	@echo "The book is in build/site/index.html"

docs-serve: deps ## Serve the book on http://127.0.0.1:8000 while you edit it
	@mkdocs serve --config-file mkdocs.yml

format: ## clang-format every C++ file of the project
	@find common labs solutions autograder docs -name '*.[ch]pp' -print0 2>/dev/null | xargs -0 -r clang-format -i

clean: ## Remove build/
	rm -rf build
