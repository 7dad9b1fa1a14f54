# SPDX-License-Identifier: GPL-2.0
#
# Command-line tools, included by the top Makefile.
#
#   make tools           build/tools/ctxrun (linked with build/lib/libctxfd.a)
#   make install-tools   $(DESTDIR)$(PREFIX)/bin/ctxrun and its man page
#
# The selftests run build/tools/ctxrun, so "make selftests" builds it too.

TOOLS_DIR := $(BUILD)/tools
CTXRUN := $(TOOLS_DIR)/ctxrun
TOOLS_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 -D_GNU_SOURCE \
	-I$(TOP)/lib $(UAPI_CFLAGS)

.PHONY: install-tools

tools: $(CTXRUN)
selftests: $(CTXRUN)

$(CTXRUN): $(wildcard tools/ctxrun/*.c tools/ctxrun/*.h) lib/ctxfd.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -o $@ $(wildcard tools/ctxrun/*.c) $(LIB_A) $(KMOD_LIBS) -pthread

install: install-tools

install-tools: $(CTXRUN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CTXRUN) $(DESTDIR)$(PREFIX)/bin/ctxrun
	install -m 0644 Documentation/man/man1/ctxrun.1 $(DESTDIR)$(MANDIR)/man1/

# The ctxrun selftests share a header of their own.
CTXRUN_TESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/ctxrun/*_test.c))
$(CTXRUN_TESTS): selftests/ctxrun/ctxrun_test.h
