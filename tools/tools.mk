# SPDX-License-Identifier: GPL-2.0
#
# Command-line tools, included by the top Makefile.
#
#   make tools           build/tools/ctxrun (tools/ctxrun/*.c, linked with
#                        build/lib/libctxfd.a), build/tools/ctxls and
#                        build/tools/ctxtree (tools/ctxls/*.c)
#   make install-tools   $(DESTDIR)$(PREFIX)/bin/ctxrun, ctxls, ctxtree and
#                        their man pages
#   make uninstall-tools removes them
#
# The selftests run build/tools/ctxrun, so "make selftests" builds it too.

TOOLS_DIR := $(BUILD)/tools
CTXRUN := $(TOOLS_DIR)/ctxrun
TOOLS_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 -D_GNU_SOURCE \
	-I$(TOP)/lib $(UAPI_CFLAGS)

.PHONY: install-tools uninstall-tools

CTXLS := $(TOOLS_DIR)/ctxls
CTXTREE := $(TOOLS_DIR)/ctxtree
CTXLS_COMMON := tools/ctxls/scan.c

tools: $(CTXRUN) $(CTXLS) $(CTXTREE)
selftests: $(CTXRUN) $(CTXLS) $(CTXTREE)

$(CTXLS) $(CTXTREE): $(TOOLS_DIR)/%: tools/ctxls/%.c $(CTXLS_COMMON) tools/ctxls/scan.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TOOLS_CFLAGS) $(LDFLAGS) -o $@ $< $(CTXLS_COMMON)

CTXRUN_SRCS := $(sort $(wildcard tools/ctxrun/*.c))

$(CTXRUN): $(CTXRUN_SRCS) tools/ctxrun/ctxrun.h lib/ctxfd.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TOOLS_CFLAGS) $(LDFLAGS) -o $@ $(CTXRUN_SRCS) $(LIB_A) $(KMOD_LIBS) -pthread

install: install-tools

install-tools: $(CTXRUN) $(CTXLS) $(CTXTREE)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CTXRUN) $(CTXLS) $(CTXTREE) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 Documentation/man/man1/ctxrun.1 \
		Documentation/man/man1/ctxls.1 Documentation/man/man1/ctxtree.1 \
		$(DESTDIR)$(MANDIR)/man1/

uninstall: uninstall-tools

uninstall-tools:
	rm -f $(DESTDIR)$(PREFIX)/bin/ctxrun $(DESTDIR)$(MANDIR)/man1/ctxrun.1 \
		$(DESTDIR)$(PREFIX)/bin/ctxls $(DESTDIR)$(MANDIR)/man1/ctxls.1 \
		$(DESTDIR)$(PREFIX)/bin/ctxtree $(DESTDIR)$(MANDIR)/man1/ctxtree.1

# The ctxrun selftests share a header of their own.
CTXRUN_TESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/ctxrun/*_test.c))
$(CTXRUN_TESTS): selftests/ctxrun/ctxrun_test.h

# The --grace examples of ctxrun(1) and ctxfd(7): the Go one is built here
# (when Go is installed; its selftest skips otherwise), the Python one runs
# from the source tree.
GO := $(shell command -v go 2>/dev/null)
CTXRUN_GO_EXAMPLE := $(TOOLS_DIR)/examples/grace-go
ifneq ($(GO),)
selftests: $(CTXRUN_GO_EXAMPLE)
endif

$(CTXRUN_GO_EXAMPLE): tools/ctxrun/examples/grace.go
	@mkdir -p $(dir $@)
	cd tools/ctxrun/examples && GOCACHE=$(TOP)/$(BUILD)/go-cache GOFLAGS= \
		$(GO) build -o $(TOP)/$@ grace.go
