# SPDX-License-Identifier: GPL-2.0
#
# ctxd, the per-host daemon that links contexts across machines through
# etcd (issue 17), and its selftests. Included by the top Makefile.
#
#   make ctxd            build/tools/ctxd (libcurl, json-c, libcrypto's
#                        base64, libctxfd.a), and build/tools/ctxd-etcdping
#                        (a raw etcd put -> watch: make bench's baseline)
#   make install-ctxd    $(DESTDIR)$(PREFIX)/sbin/ctxd, ctxd(8), the systemd
#                        unit (tools/ctxd/ctxd.service) and its settings,
#                        /etc/default/ctxd (tools/ctxd/ctxd.default)
#
# The selftests (selftests/ctxd/*_test.c) link libctxfd and run ctxd,
# etcd and tools/ctxd/testnet inside the VM.

CTXD := $(TOOLS_DIR)/ctxd
CTXD_ETCDPING := $(TOOLS_DIR)/ctxd-etcdping
CTXD_SRCS := $(filter-out tools/ctxd/etcdping.c,$(sort $(wildcard tools/ctxd/*.c)))
CTXD_HDRS := $(wildcard tools/ctxd/*.h) lib/ctxd_proto.h lib/ctxfd.h uapi/linux/ctxfd.h
CTXD_PKGS := libcurl json-c libcrypto
CTXD_CFLAGS := $(CFLAGS) $(WARNINGS) -Werror -std=gnu11 -D_GNU_SOURCE \
	-I$(TOP)/lib $(UAPI_CFLAGS) $(shell pkg-config --cflags $(CTXD_PKGS) 2>/dev/null)
CTXD_LIBS := $(or $(shell pkg-config --libs $(CTXD_PKGS) 2>/dev/null),-lcurl -ljson-c -lcrypto)

SYSTEMDUNITDIR ?= /lib/systemd/system
SYSCONFDIR ?= /etc

.PHONY: ctxd install-ctxd uninstall-ctxd

ctxd: $(CTXD) $(CTXD_ETCDPING)
tools: $(CTXD) $(CTXD_ETCDPING)
selftests: $(CTXD)
# Figure 9 of make bench runs both.
bench: $(CTXD) $(CTXD_ETCDPING)

$(CTXD): $(CTXD_SRCS) $(CTXD_HDRS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CTXD_CFLAGS) $(LDFLAGS) -o $@ $(CTXD_SRCS) $(LIB_A) $(CTXD_LIBS) $(KMOD_LIBS) -pthread

$(CTXD_ETCDPING): tools/ctxd/etcdping.c tools/ctxd/etcd.c tools/ctxd/etcd.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CTXD_CFLAGS) $(LDFLAGS) -o $@ tools/ctxd/etcdping.c tools/ctxd/etcd.c $(CTXD_LIBS)

install: install-ctxd

install-ctxd: $(CTXD)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(CTXD) $(DESTDIR)$(PREFIX)/sbin/ctxd
	install -m 0644 Documentation/man/man8/ctxd.8 $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 tools/ctxd/ctxd.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/ctxd.service
	install -D -m 0644 tools/ctxd/ctxd.default $(DESTDIR)$(SYSCONFDIR)/default/ctxd

uninstall: uninstall-ctxd

uninstall-ctxd:
	rm -f $(DESTDIR)$(PREFIX)/sbin/ctxd $(DESTDIR)$(MANDIR)/man8/ctxd.8 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/ctxd.service

# The selftests: libctxfd (shared) and the path of the tools they run.
CTXD_TESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/ctxd/*_test.c))
$(CTXD_TESTS): SELFTEST_EXTRA_LIBS = -L$(TOP)/$(LIB_DIR) -lctxfd \
	-Wl,-rpath,'$$ORIGIN/../../lib'
$(CTXD_TESTS): SELFTEST_CFLAGS += -D_GNU_SOURCE -I$(TOP)/lib -DCTXD_TOP='"$(TOP)"'
$(CTXD_TESTS): $(wildcard selftests/ctxd/*.h) $(LIB_SO) $(LIB_DIR)/libctxfd.so $(CTXD) \
	$(CTXRUN)
