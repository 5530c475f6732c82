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

## run: the demo — SmolLM2 answers on a WSE-2 sub-grid, kernels are recorded, figures drawn
run: build model
	@mkdir -p $(TRACES) $(FIGURES)
	@echo "== SmolLM2-135M on a 96x96 WSE-2 sub-grid (every layer resident, shift KV cache) =="
	$(RELEASE) generate --chat --prompt "What is the capital of France?" --mesh 96x96 --max-tokens 8 \
		--detail kernel --region 0,0,11,11 --trace $(TRACES)/smollm2-96x96.wtrace
	$(RELEASE) kv-capacity --mesh 96x96
	@echo "== Prefill of a 96-token prompt on the same grid: MeshGEMM vs token steps (timing-only, 1 of 30 layers simulated, projected) =="
	$(RELEASE) generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 96 --max-tokens 2 \
		--prefill meshgemm --simulate-layers 1 --detail kernel --region 0,0,11,11 --trace $(TRACES)/smollm2-prefill-96x96.wtrace
	$(RELEASE) generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 96 --max-tokens 2 \
		--prefill steps --simulate-layers 1 --detail summary
	@echo "== Distributed GEMM and GEMV kernels on 32x32 =="
	$(RELEASE) record gemm --algo meshgemm --mesh 32x32 --m 512 --k 512 --n 512 --out $(TRACES)/meshgemm-32.wtrace
	$(RELEASE) record gemm --algo cannon --mesh 32x32 --m 512 --k 512 --n 512 --out $(TRACES)/cannon-32.wtrace
	$(RELEASE) record gemv --algo ktree --mesh 32x32 --rows 4096 --cols 4096 --out $(TRACES)/gemv-ktree-32.wtrace
	@echo "== PLMR model vs measurement =="
	$(RELEASE) validate $(TRACES)/meshgemm-32.wtrace $(TRACES)/cannon-32.wtrace $(TRACES)/gemv-ktree-32.wtrace
	$(RELEASE) sweep --kernel gemm --algos meshgemm,cannon,summa,gemmt --mesh-sides 8,16,32,64 --m 1024 --k 1024 --n 1024 \
		--timing-only --out $(TRACES)/sweep-gemm.csv
	$(RELEASE) sweep --kernel gemv --algos ktree,pipeline,ring --mesh-sides 8,16,32,64,128 --rows 8192 --cols 8192 \
		--timing-only --out $(TRACES)/sweep-gemv.csv
	@echo "== Contention: every core sends to its transpose =="
	$(RELEASE) record comm --pattern transpose --mesh 32x32 --bytes 512 --out $(TRACES)/comm-transpose-32.wtrace
	$(RELEASE) export $(TRACES)/comm-transpose-32.wtrace --perfetto --region 0,0,7,7 -o $(TRACES)/comm-transpose-32.perfetto.json
	@echo "== Figures =="
	$(RELEASE) render $(TRACES)/smollm2-96x96.wtrace --kind timeline --region 0,0,11,11 --time 0,45000 -o $(FIGURES)/smollm2-timeline.png
	$(RELEASE) render $(TRACES)/smollm2-96x96.wtrace --kind memory -o $(FIGURES)/smollm2-memory.png
	$(RELEASE) render $(TRACES)/smollm2-prefill-96x96.wtrace --kind timeline --region 0,0,11,11 -o $(FIGURES)/smollm2-prefill-timeline.png
	$(RELEASE) render $(TRACES)/smollm2-96x96.wtrace --kind congestion -o $(FIGURES)/smollm2-congestion.png
	$(RELEASE) render $(TRACES)/meshgemm-32.wtrace --kind timeline -o $(FIGURES)/meshgemm-timeline.png
	$(RELEASE) render $(TRACES)/cannon-32.wtrace --kind congestion -o $(FIGURES)/cannon-congestion.png
	$(RELEASE) render $(TRACES)/comm-transpose-32.wtrace --kind congestion -o $(FIGURES)/comm-transpose-congestion.png
	$(RELEASE) render $(TRACES)/comm-transpose-32.wtrace --kind congestion-frames -o $(FIGURES)/comm-transpose-frames.png
	$(RELEASE) plot $(TRACES)/sweep-gemm.csv --kind scaling -o $(FIGURES)/gemm-scaling.png
	$(RELEASE) plot $(TRACES)/sweep-gemm.csv --kind model-vs-measured -o $(FIGURES)/gemm-model-vs-measured.png
	$(RELEASE) plot $(TRACES)/sweep-gemv.csv --kind scaling -o $(FIGURES)/gemv-scaling.png
	@echo "figures written:"; ls -1 $(FIGURES)/*.png

## test: unit and end-to-end tests (the end-to-end ones need the model: fetched when missing)
test: deps model
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: release benchmarks of the engine and the inference, written to bench/REPORT.md and bench/results.json
bench: deps model
	bash scripts/bench.sh

clean:
	rm -rf .build
