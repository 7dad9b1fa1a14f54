# SPDX-License-Identifier: GPL-2.0
#
# Programs written as a user writes them, built on the host (compiling in
# the VM takes minutes under TCG) and run in the VM by the userprogs
# selftests. Included by the top Makefile.
#
#  - selftests/userprogs/user_program.c, once per compiler and standard
#    below, with -Wall -Wextra -Werror -pedantic: a public header that
#    does not compile cleanly fails the build (public_headers_test runs
#    them). A variant is COMPILER-STD; variants whose compiler is not
#    installed are left out (the test skips them). Keep the list in step
#    with the test's.
#  - The README's example, cut out of README.md as printed
#    (readme_example_test runs it).

USERPROGS_DIR := $(BUILD)/selftests/userprogs/bin
HDR_VARIANTS := gcc-c99 gcc-c11 gcc-gnu17 g++-c++98 g++-c++11 g++-gnu++20 \
	clang-c99 clang++-c++17
HDR_HAVE = $(shell command -v $(firstword $(subst -, ,$(1))) >/dev/null 2>&1 && echo $(1))
HDR_BINS := $(addprefix $(USERPROGS_DIR)/,$(foreach v,$(HDR_VARIANTS),$(call HDR_HAVE,$(v))))
README_EXAMPLE := $(USERPROGS_DIR)/readme-example

selftests: $(HDR_BINS) $(README_EXAMPLE)

# C++98 has no unsigned long long literals, which the uapi header's flags
# are: that variant includes <ctxfd.h> only.
$(USERPROGS_DIR)/%: selftests/userprogs/user_program.c lib/ctxfd.h \
		uapi/linux/ctxfd.h $(LIB_DIR)/libctxfd.so
	@mkdir -p $(dir $@)
	$(firstword $(subst -, ,$*)) \
		-x $(if $(findstring ++,$(firstword $(subst -, ,$*))),c++,c) \
		-std=$(patsubst $(firstword $(subst -, ,$*))-%,%,$*) \
		$(if $(filter %-c++98,$*),-DCTXFD_TEST_NO_UAPI) \
		-Wall -Wextra -Werror -pedantic -I$(TOP)/lib $(UAPI_CFLAGS) \
		-o $@ $< -x none -L$(LIB_DIR) -lctxfd -Wl,-rpath,'$$ORIGIN/../../../lib'

# The first ```c block of README.md, built as the README says (cc, the
# flags pkg-config would give), warnings as errors.
$(README_EXAMPLE): README.md lib/ctxfd.h $(LIB_DIR)/libctxfd.so
	@mkdir -p $(dir $@)
	awk '/^```c$$/ { if (!done) on = 1; next } /^```/ { if (on) done = 1; on = 0 } on' \
		README.md > $@.c
	$(CC) -Wall -Wextra -Werror -I$(TOP)/lib $(UAPI_CFLAGS) -o $@ $@.c \
		-L$(LIB_DIR) -lctxfd -Wl,-rpath,'$$ORIGIN/../../../lib'
