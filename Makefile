# SPDX-License-Identifier: GPL-2.0
#
# The targets people run.  Kbuild lists what the module is made of.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
DESTDIR ?=
DEPMOD ?= depmod
SPARSE ?= sparse
LINUX_SOURCE ?= $(CURDIR)/.cache/linux-source
CHECKPATCH ?= $(LINUX_SOURCE)/scripts/checkpatch.pl
DKMS ?= dkms
DKMS_SOURCE ?= /usr/src

# The one version: tcprtt.h.
VERSION := $(shell sed -n 's/^\#define TCPRTT_VERSION "\(.*\)"/\1/p' $(CURDIR)/tcprtt.h)
SOURCES := tcprtt_main.c tcprtt_hist.c tcprtt_scope.c tcprtt_session.c tcprtt.h
USER_SOURCES := tests/tcprtt_load.c tests/tcprtt_fault.c bench/tcprtt_bench.c $(wildcard tools/*.c tools/*.h) \
	tests/tools/unit.c tests/tools/session_shim.c
# What DKMS needs to build the module: no tests, no tools.
DKMS_FILES := Kbuild Makefile $(SOURCES)
DKMS_DIR := $(DKMS_SOURCE)/tcprtt-$(VERSION)

# Build tcprtt.ko for KVER (default: the running kernel) or KDIR.
module:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Build with DEBUG and debug info.
debug:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_TCPRTT_DEBUG=y modules

# Remove what the build made; DKMS runs this in its copy of the source,
# which has no tests/ or bench/.
clean:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	@if [ -d tests/claim ]; then $(MAKE) -C $(KDIR) M=$(CURDIR)/tests/claim clean; fi
	@if [ -f tests/Makefile ]; then $(MAKE) -C tests clean; fi
	@if [ -f bench/Makefile ]; then $(MAKE) -C bench clean; fi

# Install into /lib/modules/KVER/updates and refresh the dependency lists.
install: module
	@$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	$(DEPMOD) -b "$(or $(DESTDIR),/)" -a $(KVER)

# Print the files the module is built from, for debian/rules and the matrix.
dkms-files:
	@echo $(DKMS_FILES)

# Copy the module's source to /usr/src/tcprtt-VERSION, with its version in
# dkms.conf: what `dkms add tcprtt/VERSION` takes.
dkms-source:
	install -d $(DKMS_DIR)
	install -m 0644 $(DKMS_FILES) $(DKMS_DIR)/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf >$(DKMS_DIR)/dkms.conf

# Add that source to DKMS, then build and install it for KVER.  DKMS builds
# it again for every kernel installed later.  Running it again starts over.
dkms-install:
	$(DKMS) remove tcprtt/$(VERSION) --all >/dev/null 2>&1 || true
	@$(MAKE) --no-print-directory dkms-source
	$(DKMS) add tcprtt/$(VERSION)
	$(DKMS) install -k $(KVER) tcprtt/$(VERSION)

# Remove this version from DKMS, from every kernel, and its source.
dkms-uninstall:
	$(DKMS) remove tcprtt/$(VERSION) --all || true
	rm -rf $(DKMS_DIR)

# Print the version every part of tcprtt carries.
version:
	@echo $(VERSION)

# checkpatch.pl --strict: no errors, no warnings, on every source file.
# Userspace C defines the kernel's __printf() for itself: that definition is
# the one place the raw attribute must be spelled out.  libFuzzer's entry
# point has the CamelCase name libFuzzer calls.
style: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --terse --show-types -f $(SOURCES) \
		tests/claim/tcprtt_claim.c
	$(CHECKPATCH) --strict --no-tree --terse --show-types -f \
		--ignore PREFER_DEFINED_ATTRIBUTE_MACRO,CAMELCASE $(USER_SOURCES)

# W=1 and sparse (C=2): each must print no warning at all.
check: style
	@mkdir -p .cache
	@$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null
	@$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules 2>&1 | tee .cache/w1.log
	@! grep -E 'warning:|error:' .cache/w1.log
	@$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CHECK=$(SPARSE) modules 2>&1 | tee .cache/sparse.log
	@! grep -E 'warning:|error:' .cache/sparse.log
	@echo "make check: W=1, sparse and checkpatch clean"

$(CHECKPATCH):
	scripts/linux-source.sh $(LINUX_SOURCE)

# test-copy DIR FLAGS: tcprtt's source in DIR, built with FLAGS as well.
define test-copy
	@mkdir -p $(1)
	@cp Kbuild $(SOURCES) $(1)/
	@echo 'ccflags-y += $(2)' >>$(1)/Kbuild
endef

# The source of a copy of tcprtt whose probed function and tracepoint do not
# exist, in MISSING (tests/matrix.sh names its own folder).
MISSING := $(CURDIR)/.cache/probe-missing
missing-source:
	$(call test-copy,$(MISSING),-DTCPRTT_PROBED_FUNCTION=\"tcprtt_missing_function\" -DTCPRTT_TRACEPOINT=\"tcprtt_missing_tracepoint\")

# The source of a copy whose probe waits 1 ms between reading the unit and
# counting, in RACE: the window a unit change must close, made wide.
RACE := $(CURDIR)/.cache/race
race-source:
	$(call test-copy,$(RACE),-DTCPRTT_TEST_RACE_DELAY_US=1000)

# Modules only the guest tests load: a hook that claims tcp_rcv_established,
# and those copies.
test-modules: missing-source race-source
	@$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/claim modules
	@$(MAKE) -C $(KDIR) M=$(MISSING) modules
	@$(MAKE) -C $(KDIR) M=$(RACE) modules

# Replay the reference guide in a QEMU guest: idle, traffic, netem delay.
demo:
	tests/demo.sh

# The whole test suite, in a QEMU guest booting KVER.
test:
	tests/run.sh

# The suite with the issue's stress counts, plus a guest with slub_debug=FZPU.
stress:
	TCPRTT_STRESS=1 TCPRTT_CYCLES=100 TCPRTT_READ_SECONDS=60 tests/run.sh

# Build with W=1 and run the guest suite on each kernel of the matrix
# (tests/matrix.sh: Debian 12's 6.1 and 6.1 RT, 6.12, 7.x, 5.10, arm64 6.1).
matrix:
	tests/matrix.sh

# The whole guest suite in the two debug kernels, 6.1 and sid's newest
# (KASAN, lockdep, PROVE_RCU, kmemleak, fault injection), each built first
# when tests/debug/config or its source package changed (docs/testing.md,
# "Debug kernels").
debug-test:
	tests/matrix.sh debug debug-sid

# The per-hit cost benchmark and its targets (bench/README.md).
bench:
	bench/run.sh

.PHONY: module debug clean install dkms-files dkms-source dkms-install dkms-uninstall version style \
	check missing-source race-source test-modules demo test stress matrix debug-test bench
