# SPDX-License-Identifier: GPL-2.0
#
# The public headers under every standard: selftests/headers/user_program.c
# built as C and C++ with each compiler and standard below, -Wall -Wextra
# -Werror -pedantic, linked against libctxfd.so. A header that does not
# compile cleanly fails the build; public_headers_test runs the programs
# in the VM. Included by selftests/selftests.mk.
#
# A variant is COMPILER-STD; variants whose compiler is not installed are
# left out (public_headers_test skips them). Keep the list in step with
# the test's.

HDR_DIR := $(BUILD)/selftests/headers/bin
HDR_VARIANTS := gcc-c99 gcc-c11 gcc-gnu17 g++-c++98 g++-c++11 g++-gnu++20 \
	clang-c99 clang++-c++17
HDR_HAVE = $(shell command -v $(firstword $(subst -, ,$(1))) >/dev/null 2>&1 && echo $(1))
HDR_BINS := $(addprefix $(HDR_DIR)/,$(foreach v,$(HDR_VARIANTS),$(call HDR_HAVE,$(v))))

selftests: $(HDR_BINS)
$(BUILD)/selftests/headers/public_headers_test: $(HDR_BINS)

# C++98 has no unsigned long long literals, which the uapi header's flags
# are: that variant includes <ctxfd.h> only.
$(HDR_DIR)/%: selftests/headers/user_program.c lib/ctxfd.h uapi/linux/ctxfd.h \
		$(LIB_DIR)/libctxfd.so
	@mkdir -p $(dir $@)
	$(firstword $(subst -, ,$*)) \
		-x $(if $(findstring ++,$(firstword $(subst -, ,$*))),c++,c) \
		-std=$(patsubst $(firstword $(subst -, ,$*))-%,%,$*) \
		$(if $(filter %-c++98,$*),-DCTXFD_TEST_NO_UAPI) \
		-Wall -Wextra -Werror -pedantic -I$(TOP)/lib $(UAPI_CFLAGS) \
		-o $@ $< -x none -L$(LIB_DIR) -lctxfd -Wl,-rpath,'$$ORIGIN/../../../lib'
