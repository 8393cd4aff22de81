# ec - non-recursive Makefile.
#
#   make            libec.a and the programs (ecctl, later ecnode, ecsim)
#   make test       build and run every unit test, fuzz-corpus replay, CLI test
#   make bench      build and run the benchmarks (ratios against raw baselines)
#   make SAN=1 ...  the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   make FUZZ=1     libFuzzer targets (clang) in build/fuzz/
#   make check-source   the core may not call clocks, RNGs or printf
#   make install    PREFIX (/usr/local), DESTDIR, SYSCONFDIR (/etc): programs,
#                   libec.a + headers + libec.pc, man pages, ecnode.service,
#                   a commented ecnode.conf (never overwritten)
#   make swarm SECONDS=N  an ecsim swarm campaign of N wall seconds (nice'd)
#
# New files are picked up by wildcard: src/<layer>/*.c go into libec.a (or
# the program of that directory), tests/test_*.c become one test binary each,
# fuzz/fuzz_*.c one fuzz target each, bench/bench_*.c one benchmark each.

PKGS := libsodium lmdb libuv yaml-0.1 jansson libcrypto libsystemd
# what libec.a itself needs (libec.pc)
LIBEC_REQUIRES := libsodium lmdb libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
TEST_LIBS := $(shell pkg-config --libs cmocka)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wno-unused-parameter \
	-Wstrict-prototypes -Wpointer-arith -Wundef
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Itests/util $(WARN) $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lm -lpthread

ifeq ($(SAN),1)
BUILD ?= build/san
BASE_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(FUZZ),1)
BUILD ?= build/fuzz
CC := clang
CFLAGS := -O1 -g
BASE_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=fuzzer,address,undefined
else
BUILD ?= build
endif

LIB_SRCS := $(wildcard src/util/*.c src/crypto/*.c src/wire/*.c src/store/*.c src/core/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libec.a

CTL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/ctl/*.c))
NODE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/node/*.c))
# src/sim: everything but the program's main goes into libecsim.a, which the
# tests link too, so simulator modules are unit-tested like the core.
SIMLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/sim/ecsim_main.c,$(wildcard src/sim/*.c)))
SIM_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/sim/ecsim_main.c))
SIMLIB := $(if $(SIMLIB_OBJS),$(BUILD)/libecsim.a)

PROGS := $(BUILD)/ecctl
ifneq ($(NODE_OBJS),)
PROGS += $(BUILD)/ecnode
endif
ifneq ($(SIM_OBJS),)
PROGS += $(BUILD)/ecsim
endif

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TESTUTIL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/util/*.c))

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz-replay/%)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/%)

BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

# ---- release version (include/ec/version.h is the one place it is written)
VERSION := $(shell sed -n 's/^\#define EC_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' \
	include/ec/version.h | paste -sd.)

# ---- installation layout
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL ?= install

# man pages from scdoc sources (docs/man/*.scd); without scdoc the build
# goes on and `make install` says that it skips them
SCDOC := $(shell command -v scdoc 2>/dev/null)
MAN_SRCS := $(wildcard docs/man/*.scd)
MAN_PAGES := $(if $(SCDOC),$(MAN_SRCS:docs/man/%.scd=$(BUILD)/man/%))

ALL_OBJS := $(LIB_OBJS) $(CTL_OBJS) $(NODE_OBJS) $(SIM_OBJS) $(SIMLIB_OBJS) $(TESTUTIL_OBJS)

.PHONY: all test bench check-source clean fuzz tests-build run demo swarm install man
.SECONDARY:
.DEFAULT_GOAL := all

ifeq ($(FUZZ),1)
all: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
else
all: $(LIB) $(SIMLIB) $(PROGS) $(MAN_PAGES)
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ecctl: $(CTL_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ecnode: $(NODE_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libecsim.a: $(SIMLIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ecsim: $(SIM_OBJS) $(SIMLIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTUTIL_OBJS) $(SIMLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

# Fuzz targets linked with a plain main() that replays a corpus directory.
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer binaries (FUZZ=1).
$(BUILD)/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# benchmarks may use the simulator's modules (bench_sim)
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(SIMLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# bench_sync drives the test harness's in-process network.
$(BUILD)/bench/bench_sync: $(BUILD)/obj/tests/util/harness.o

tests-build: $(LIB) $(PROGS) $(TEST_BINS) $(FUZZ_REPLAY_BINS)

test: tests-build check-source
	BUILD=$(BUILD) scripts/run-tests.sh

bench: $(LIB) $(PROGS) $(BENCH_BINS)
	BUILD=$(BUILD) scripts/run-bench.sh

# A swarm campaign (docs/SCENARIOS.md "Swarm"): random scenarios, each
# checked against the global invariants, for SECONDS of wall time at nice 10
# (the machine is shared); SWARM_SEED picks the campaign (default: random,
# printed).  Scenario files of violations go to out/swarm/.
SECONDS ?= 300
SWARM_SEED ?=
swarm: $(LIB) $(PROGS)
	nice -n 10 $(BUILD)/ecsim swarm --seconds $(SECONDS) $(if $(SWARM_SEED),--seed $(SWARM_SEED)) --out out/swarm

# The sans-I/O layers take time and randomness from their caller.
check-source:
	@scripts/check-source.sh

# The README's main job: a local network of ecnode daemons (scripts/run.sh).
run: $(LIB) $(PROGS)
	BUILD=$(BUILD) sh scripts/run.sh

# The offline commit-chain demo (the former `make run`).
demo: $(LIB) $(PROGS)
	BUILD=$(BUILD) scripts/demo.sh

man: $(MAN_PAGES)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

# dist/*.in with the installation paths filled in, at install time (the
# build tree holds nothing that depends on PREFIX); libec.pc names its
# directories relative to ${prefix} where they are under PREFIX, so that
# `pkg-config --define-variable=prefix=...` relocates it
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@PC_LIBDIR@|$(PC_LIBDIR)|g' \
	-e 's|@PC_INCLUDEDIR@|$(PC_INCLUDEDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@LIBEC_REQUIRES@|$(LIBEC_REQUIRES)|g'

install: $(LIB) $(PROGS) $(MAN_PAGES)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/ec $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSCONFDIR)/ec
	$(INSTALL) -m 0755 $(BUILD)/ecctl $(DESTDIR)$(BINDIR)/ecctl
	$(INSTALL) -m 0755 $(BUILD)/ecnode $(DESTDIR)$(SBINDIR)/ecnode
	$(INSTALL) -m 0755 $(BUILD)/ecsim $(DESTDIR)$(BINDIR)/ecsim
	$(INSTALL) -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libec.a
	$(INSTALL) -m 0644 include/ec/*.h $(DESTDIR)$(INCLUDEDIR)/ec/
	$(SUBST) dist/libec.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libec.pc
	chmod 0644 $(DESTDIR)$(LIBDIR)/pkgconfig/libec.pc
	$(SUBST) dist/ecnode.service.in >$(DESTDIR)$(UNITDIR)/ecnode.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ecnode.service
	$(INSTALL) -m 0644 dist/ec.sysusers $(DESTDIR)$(SYSUSERSDIR)/ec.conf
	@# the operator's configuration is never overwritten
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/ec/ecnode.conf ]; then \
		echo "install: $(DESTDIR)$(SYSCONFDIR)/ec/ecnode.conf exists: left as it is"; \
	else \
		echo "$(INSTALL) -m 0644 dist/ecnode.conf $(DESTDIR)$(SYSCONFDIR)/ec/ecnode.conf"; \
		$(INSTALL) -m 0644 dist/ecnode.conf $(DESTDIR)$(SYSCONFDIR)/ec/ecnode.conf; \
	fi
ifneq ($(SCDOC),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(BUILD)/man/ecctl.1 $(BUILD)/man/ecsim.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(BUILD)/man/ecnode.8 $(DESTDIR)$(MANDIR)/man8/
else
	@echo "install: scdoc not found: man pages not built nor installed (sh scripts/setup.sh installs it)"
endif

clean:
	rm -rf build

-include $(ALL_OBJS:.o=.d) $(wildcard $(BUILD)/obj/tests/*.d $(BUILD)/obj/fuzz/*.d $(BUILD)/obj/bench/*.d)
