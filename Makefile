# vertebra build.  make | make test | make test SAN=1 | make CUDA=1 | make bench | make fixtures | make clean
# Sources are found by folder: every .c under the library folders goes into libvertebra.a,
# tools/*.c make the CLI, tests/<folder>/test_*.c are one Check suite executable each.

CC      ?= gcc
comma   := ,
SAN     ?= 0
CUDA    ?= 0
BUILD   := build
ifeq ($(SAN),1)
BUILD   := build/san
endif
ifeq ($(CUDA),1)
BUILD   := $(BUILD)/cuda
endif

# OpenBLAS: prefer Debian's OpenMP build, so that BLAS and our OpenMP kernels share one
# thread pool; two spinning pools (pthread OpenBLAS + libgomp) fight over 2 cores and made
# a Fashion-MNIST epoch up to 10x slower. rpath makes the loader pick this variant.
ARCH_LIB := /usr/lib/$(shell gcc -print-multiarch 2>/dev/null)
BLAS_OMP := $(wildcard $(ARCH_LIB)/openblas-openmp/libopenblas.so)
BLAS_INC := $(firstword $(wildcard $(if $(BLAS_OMP),/usr/include/$(shell gcc -print-multiarch)/openblas-openmp) /usr/include/$(shell gcc -print-multiarch 2>/dev/null)/openblas-pthread /usr/include/openblas))
CFLAGS  ?= -O3 -march=native
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -fopenmp -Icore $(if $(BLAS_INC),-I$(BLAS_INC))
LDLIBS  := $(if $(BLAS_OMP),-L$(dir $(BLAS_OMP)) -Wl$(comma)-rpath$(comma)$(dir $(BLAS_OMP)),) -lopenblas -lz -lm -lpthread
LDFLAGS += -fopenmp

ifeq ($(SAN),1)
CFLAGS  += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# optional dependencies, reported once
HAVE_CHECK := $(shell pkg-config --exists check 2>/dev/null && echo 1)
HAVE_PNG   := $(shell pkg-config --exists libpng 2>/dev/null && echo 1)
HAVE_MPI   := $(shell command -v mpicc >/dev/null 2>&1 && echo 1)
NVCC       := $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
ifeq ($(HAVE_PNG),1)
CFLAGS  += -DVT_HAVE_PNG $(shell pkg-config --cflags libpng)
LDLIBS  += $(shell pkg-config --libs libpng)
endif
# OpenMPI: multi-process training (train/distributed.c); without it that API is single-process
ifeq ($(HAVE_MPI),1)
CFLAGS  += -DVT_HAVE_MPI $(shell mpicc --showme:compile)
LDLIBS  += $(shell mpicc --showme:link)
endif

LIB_DIRS := core core/cpu layers optim losses data metrics train
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC  := $(wildcard tools/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

ifeq ($(CUDA),1)
CUDA_HOME ?= /usr/local/cuda
CU_SRC   := $(wildcard cuda/*.cu)
CU_OBJ   := $(CU_SRC:%.cu=$(BUILD)/obj/%.o)
LIB_OBJ  += $(CU_OBJ)
CFLAGS   += -DVT_HAVE_CUDA -I$(CUDA_HOME)/include
LDLIBS   += -L$(CUDA_HOME)/lib64 -lcudnn -lcublas -lcudart -lstdc++
endif

TEST_UTIL_SRC := $(wildcard tests/util/*.c)
TEST_UTIL_OBJ := $(TEST_UTIL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC      := $(wildcard tests/*/test_*.c)
TEST_BIN      := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_LIBS     := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all test bench clean deps fixtures
all: deps $(BUILD)/libvertebra.a $(BUILD)/vertebra

deps:
	@echo "vertebra: openblas $(if $(BLAS_INC),yes ($(BLAS_INC)),MISSING: apt-get install libopenblas-openmp-dev)$(if $(BLAS_OMP),, (pthread build: apt-get install libopenblas-openmp-dev for one shared thread pool))"; \
	 echo "vertebra: check (tests) $(if $(HAVE_CHECK),yes,no: apt-get install check)"; \
	 echo "vertebra: libpng $(if $(HAVE_PNG),yes,no (PNG reading disabled))"; \
	 echo "vertebra: openmpi $(if $(HAVE_MPI),yes,no (multi-process training disabled))"; \
	 echo "vertebra: cuda $(if $(filter 1,$(CUDA)),building with $(NVCC),$(if $(NVCC),available: make CUDA=1,no))"

# -MMD: each object depends on exactly the headers it includes (build/**/*.d)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ilayers -Ioptim -Ilosses -Idata -Imetrics -Itrain -Itests/util -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) -O3 -std=c++17 -Icore -c $< -o $@

$(BUILD)/libvertebra.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/vertebra: $(CLI_OBJ) $(BUILD)/libvertebra.a
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(BUILD)/libvertebra.a $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(TEST_UTIL_OBJ) $(BUILD)/libvertebra.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ilayers -Ioptim -Ilosses -Idata -Imetrics -Itrain -Itests/util $(LDFLAGS) $< $(TEST_UTIL_OBJ) $(BUILD)/libvertebra.a $(TEST_LIBS) $(LDLIBS) -o $@

# Runs every suite even if one fails; the summary names the failing ones.
test: all $(TEST_BIN)
	@fail=""; for t in $(TEST_BIN); do \
	   echo "== $$t"; VT_FIXTURES=tests/fixtures VT_BIN=$(BUILD)/vertebra $$t || fail="$$fail $$t"; done; \
	 if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; else echo "all $(words $(TEST_BIN)) suites passed"; fi

# Benchmarks (not tests): vertebra vs the PyTorch peer on the same machine, same threads,
# every model of torch_bench.py (many minutes on 2 cores). BENCH_ARGS: e.g. --threads 1.
bench: all
	mkdir -p $(BUILD)/bench && $(BUILD)/vertebra bench --model all --json $(BUILD)/bench/bench.json $(BENCH_ARGS)

# Regenerates the PyTorch reference fixtures (needs Debian's python3-torch).
fixtures:
	for s in tests/ref/ref_*.py; do /usr/bin/python3 $$s tests/fixtures || exit 1; done

clean:
	rm -rf build
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
