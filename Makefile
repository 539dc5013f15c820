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

# The one version: tcprtt.h.
VERSION := $(shell sed -n 's/^\#define TCPRTT_VERSION "\(.*\)"/\1/p' $(CURDIR)/tcprtt.h)
SOURCES := tcprtt_main.c tcprtt_hist.c tcprtt.h

# Build tcprtt.ko for KVER (default: the running kernel) or KDIR.
module:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# Build with DEBUG and debug info.
debug:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_TCPRTT_DEBUG=y modules

clean:
	@$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	@$(MAKE) -C tests clean
	@$(MAKE) -C bench clean

# Install into /lib/modules/KVER/updates and refresh the dependency lists.
install: module
	@$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	$(DEPMOD) -b "$(or $(DESTDIR),/)" -a $(KVER)

# Print the version every part of tcprtt carries.
version:
	@echo $(VERSION)

# checkpatch.pl --strict: no errors, no warnings, on every source file.
style: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --terse --show-types -f \
		$(SOURCES) tests/tcprtt_load.c bench/tcprtt_bench.c

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

# Replay the reference guide in a QEMU guest: idle, traffic, netem delay.
demo:
	tests/demo.sh

# The whole test suite, in a QEMU guest booting KVER.
test:
	tests/run.sh

# The per-hit cost benchmark and its targets (bench/README.md).
bench:
	bench/run.sh

.PHONY: module debug clean install version style check demo test bench
