# podreaper — plain Makefile with pkg-config. `make check` installs what it needs, builds and
# runs every test; `make asan` does the same under ASan+UBSan in build-asan/.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
DESTDIR    ?=
BUILD      ?= build
CC         ?= cc
CLANG      ?= clang
PKG_CONFIG ?= pkg-config

PKGS      := mount blkid libsystemd libnghttp2 libprotobuf-c
TEST_PKGS := cmocka

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN   := -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral -Wmissing-prototypes -Wstrict-prototypes
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(if $(WERROR),-Werror) $(SAN_CFLAGS) -I. \
             -DPODREAPER_VERSION='"$(VERSION)"' $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CFLAGS)
ALL_LDFLAGS = $(SAN_CFLAGS) $(LDFLAGS)
LIBS      = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lpthread
TEST_LIBS = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

ifeq ($(SANITIZE),1)
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
HARDEN     := -fstack-protector-strong
endif

# Modules: every .c in a module folder goes into one static library; reaper/ is the program.
# reaper/ minus main.c goes in too, so its unit tests can link it.
LIB_SRCS  := $(wildcard util/*.c mountutil/*.c cgroupfs/*.c cri/*.c) $(filter-out reaper/main.c,$(wildcard reaper/*.c))
PROG_SRCS := reaper/main.c
# cri/*.proto -> C, generated at build time. The generated code has a field named `linux`: it and
# the cri/ sources that include it are compiled with -Ulinux.
PROTOS    := $(wildcard cri/*.proto)
GEN_SRCS  := $(PROTOS:%.proto=$(BUILD)/gen/%.pb-c.c)
GEN_HDRS  := $(GEN_SRCS:.c=.h)
CRI_CFLAGS = -Ulinux -I$(BUILD)/gen
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(GEN_SRCS:.c=.o)
PROG_OBJS := $(PROG_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libpodreaper.a
PROG      := $(BUILD)/podreaper

UNIT_TESTS   := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/test-*.c))
KERNEL_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/kernel/test-*.c))
E2E_TESTS    := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/e2e/test-*.c))
# TAP scripts that drive the podreaper binary against the private containerd; they find the
# binaries through $PODREAPER_BUILD.
E2E_SCRIPTS  := $(wildcard tests/e2e/*.t)
TOOLS        := $(BUILD)/tests/e2e/podctl
BENCHES      := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/bench/bench-*.c))
# What the benches share (tests/bench/lib/): linked into each of them, not a bench itself.
BENCH_HELPERS := $(wildcard tests/bench/lib/*.c)
FUZZERS      := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
TEST_HELPERS := $(wildcard tests/lib/*.c)

# Terse output ("CC util/log.c"); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

.PHONY: all deps check check-run check-vm bench-vm asan bench fuzz fuzz-run install clean format format-check tests

all: $(PROG)

deps:
	@tools/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: %.proto
	@mkdir -p $(BUILD)/gen
	$(call say,PROTOC,$<)protoc-c --c_out=$(BUILD)/gen $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(filter $(BUILD)/cri/%,$(LIB_OBJS)) $(GEN_SRCS:.c=.o): ALL_CFLAGS += $(CRI_CFLAGS)
$(filter $(BUILD)/cri/%,$(LIB_OBJS)): | $(GEN_HDRS)
.SECONDARY: $(GEN_SRCS) $(GEN_HDRS)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(PROG): $(PROG_OBJS) $(LIB)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $(PROG_OBJS) $(LIB) $(LIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -MMD -MP $(ALL_LDFLAGS) \
		-o $@ $< $(TEST_HELPERS) $(LIB) $(LIBS) $(TEST_LIBS)

$(BENCHES): TEST_HELPERS += $(BENCH_HELPERS)
$(BENCHES): $(BENCH_HELPERS)

tests: $(PROG) $(UNIT_TESTS) $(KERNEL_TESTS) $(E2E_TESTS) $(BENCHES) $(TOOLS)

# e2e tests need a private containerd: the whole run goes under with-containerd.sh.
check: deps
	@$(MAKE) --no-print-directory tests
	@PODREAPER_BUILD=$(BUILD) tests/e2e/with-containerd.sh tests/run-tests.sh $(BUILD) \
		$(UNIT_TESTS) $(KERNEL_TESTS) $(E2E_TESTS) $(E2E_SCRIPTS)

# The VM suite on a production-like node: Debian 12 booted with systemd on pure cgroup v2, the
# system containerd on the systemd cgroup driver (tests/vm/README.md). VM_MODE=make-check runs the
# whole make check there instead; PODREAPER_VM_ONLY="tests/vm/10-x.t" runs only those cases.
VM_MODE ?= suite
check-vm: deps
	@tools/install-deps.sh --vm
	@$(MAKE) --no-print-directory $(if $(filter make-check,$(VM_MODE)),tests,$(PROG) $(TOOLS) $(KERNEL_TESTS))
	@tests/vm/check-vm.sh $(BUILD) $(VM_MODE)

# The same node work on the host's cgroupfs driver and the VM node's systemd driver, side by side.
bench-vm: deps
	@tools/install-deps.sh --vm
	@$(MAKE) --no-print-directory $(PROG) $(TOOLS)
	@tests/vm/bench-vm.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		PODREAPER_BUILD=build-asan tests/e2e/with-containerd.sh tests/run-tests.sh build-asan \
		$(UNIT_TESTS:$(BUILD)/%=build-asan/%) $(KERNEL_TESTS:$(BUILD)/%=build-asan/%) \
		$(E2E_TESTS:$(BUILD)/%=build-asan/%) $(E2E_SCRIPTS)

bench: deps
	@$(MAKE) --no-print-directory BUILD=build build/podreaper build/tests/e2e/podctl $(BENCHES:$(BUILD)/%=build/%)
	@tests/bench/run-bench.sh build

# libFuzzer harnesses, built with clang against the module sources directly.
build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(GEN_SRCS)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -I. $(CRI_CFLAGS) -fsanitize=fuzzer,address,undefined $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
		-o $@ $< $(LIB_SRCS) $(GEN_SRCS) $(LIBS)

fuzz: deps $(FUZZERS)

FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	@set -e; for f in $(FUZZERS); do \
		name=$$(basename $$f); mkdir -p build-fuzz/corpus-$$name; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build-fuzz/corpus-$$name tests/data/fuzz/$$name 2>build-fuzz/$$name.log \
			|| { tail -n 40 build-fuzz/$$name.log; exit 1; }; \
	done

install: $(PROG)
	install -D -m 0755 $(PROG) $(DESTDIR)$(SBINDIR)/podreaper

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') && echo "format-check: clean"

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -path $(BUILD)/vm -prune -o -name '*.d' -type f -print 2>/dev/null)

$(BUILD)/tests/demo/demo-rmtree: tests/demo/demo-rmtree.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

.PHONY: demo demo-rmtree
# The main job on a self-made node: a private containerd, live and removed pods, plan, run.
demo: deps
	@$(MAKE) --no-print-directory all $(TOOLS)
	@tests/demo/demo.sh $(BUILD)

# mu_rm_tree against rm -rf --one-file-system on a pod dir full of traps.
demo-rmtree: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/demo/demo-rmtree
	@$(BUILD)/tests/demo/demo-rmtree
