#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install (as root) or list (otherwise) the Debian packages a target needs.
#
#   tools/deps.sh [GROUP]...     groups: build check demo rt 6.12 debug bench
#
# As root, missing packages are installed with apt-get; otherwise the one
# apt-get line to run is printed and the script exits 2.
set -eu

groups=${*:-check}
pkgs=
backports=0
for g in $groups; do
	case "$g" in
	build)	pkgs="$pkgs build-essential linux-headers-amd64 linux-source-6.1 xz-utils libkmod-dev pkg-config" ;;
	check|demo)
		pkgs="$pkgs build-essential linux-image-amd64 linux-headers-amd64 linux-source-6.1 xz-utils libkmod-dev pkg-config \
qemu-system-x86 busybox-static cpio bc kmod file procps valgrind" ;;
	rt)	pkgs="$pkgs linux-image-rt-amd64 linux-headers-rt-amd64" ;;
	6.12)	backports=1 ;;
	debug)	pkgs="$pkgs flex bison libelf-dev libssl-dev bc rsync" ;;
	bench)	pkgs="$pkgs procps" ;;
	*)	echo "deps.sh: unknown group $g" >&2; exit 2 ;;
	esac
done

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

need_bp=0
if [ "$backports" = 1 ] && ! ls /boot/vmlinuz-6.12.*-amd64 >/dev/null 2>&1; then
	need_bp=1
fi

[ -z "$missing" ] && [ "$need_bp" = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages; as root, run:" >&2
	[ -n "$missing" ] && echo "  apt-get install -y --no-install-recommends$missing" >&2
	[ "$need_bp" = 1 ] && echo "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list && apt-get update && apt-get install -y -t bookworm-backports linux-image-amd64 linux-headers-amd64" >&2
	exit 2
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing$missing" >&2
apt-get update -q >/dev/null
if [ -n "$missing" ]; then
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
if [ "$need_bp" = 1 ]; then
	echo 'deb http://deb.debian.org/debian bookworm-backports main' \
		> /etc/apt/sources.list.d/ctxfd-backports.list
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends -t bookworm-backports \
		linux-image-amd64 linux-headers-amd64 >/dev/null
fi
