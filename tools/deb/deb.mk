# SPDX-License-Identifier: GPL-2.0
#
# Debian packages (debian/), included by the top Makefile.
#
#   make deb             build/deb/*.deb from the working tree, then lintian
#                        (tools/deb/build); as root, installs the build
#                        dependencies first (tools/deps.sh deb)
#   make check-packages  make deb, then install, use and purge the packages
#                        in a fresh VM of 6.1 and of 6.12
#                        (tools/deb/check-packages, tools/deb/vm-check)
#
# See Documentation/admin-guide/install.rst.

.PHONY: deb check-packages

deb:
	tools/deps.sh deb
	tools/deb/build

check-packages:
	tools/deb/check-packages
