# WaferScope — build, demo, tests, benchmarks.
# Every target installs what it needs on a fresh Debian machine (root, or sudo).

SWIFT   ?= swift
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS := libcairo2-dev pkg-config
RELEASE := .build/release/waferscope
MODEL   := .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
TRACES  := traces
FIGURES := figures

.PHONY: all deps build run test bench model clean

all: build

## deps: install the system libraries (Cairo) when missing
deps:
	@if ! pkg-config --exists cairo 2>/dev/null; then \
		echo "installing $(APT_PKGS)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

## model: download SmolLM2-135M-Instruct (GGUF) into .cache/models and verify its sha256
model:
	@bash scripts/fetch-model.sh

## build: release build of the command-line tool
build: deps
	$(SWIFT) build -c release --product waferscope

## run: the demo — record workloads on a WSE-2 sub-grid, summarise and export them
run: build
	@mkdir -p $(TRACES) $(FIGURES)
	$(RELEASE) record comm --pattern transpose --mesh 32x32 --bytes 512 --out $(TRACES)/comm-transpose-32.wtrace
	$(RELEASE) record comm --pattern hotspot --mesh 32x32 --bytes 256 --out $(TRACES)/comm-hotspot-32.wtrace
	$(RELEASE) info $(TRACES)/comm-hotspot-32.wtrace --json
	$(RELEASE) export $(TRACES)/comm-hotspot-32.wtrace --perfetto --region 12,12,20,20 -o $(TRACES)/comm-hotspot-32.perfetto.json

## test: unit and end-to-end tests (the end-to-end ones need the model: fetched when missing)
test: deps model
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: release benchmarks of the engine and the inference, written to bench/REPORT.md and bench/results.json
bench: deps model
	bash scripts/bench.sh

clean:
	rm -rf .build
