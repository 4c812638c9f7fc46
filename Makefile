# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of rust_ipvs.
#
#   make                      build against the cached test kernel (scripts/kernel.sh)
#   make KDIR=<kernel tree>   build against another prepared, Rust-enabled kernel tree
#   make LLVM=              build with gcc (for a gcc-built kernel such as Debian's)
#   make lint                 rustfmt and clippy, failing on any finding (scripts/lint.sh)
#   make clean

LLVM ?= -19
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
ifeq ($(KDIR),)
KDIR := $(shell ./scripts/kernel.sh --print 2>/dev/null)
endif

all: modules

check-kdir:
	@./scripts/check-kdir.sh "$(KDIR)"

modules: check-kdir
	@$(MAKE) -s -C "$(KDIR)" M="$(CURDIR)" LLVM=$(LLVM) modules

lint: check-kdir
	@./scripts/lint.sh "$(KDIR)"

clean:
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then $(MAKE) -s -C "$(KDIR)" M="$(CURDIR)" clean; fi

.PHONY: all check-kdir modules lint clean
