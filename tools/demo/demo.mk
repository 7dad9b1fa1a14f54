# SPDX-License-Identifier: GPL-2.0
#
# The demo program (tools/demo/ctxfd-demo.c), linked statically against
# libctxfd so that it runs from the build tree in the VM.

DEMO_BIN := $(BUILD)/tools/ctxfd-demo

tools: $(DEMO_BIN)

$(DEMO_BIN): tools/demo/ctxfd-demo.c lib/ctxfd.h uapi/linux/ctxfd.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARNINGS) -Werror -Ilib $(UAPI_CFLAGS) -o $@ $< \
		$(LIB_A) $(KMOD_LIBS) -pthread
