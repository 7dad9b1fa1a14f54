#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Resolve the KERNEL selector to an installed kernel.
#
#   tools/vm/kernel.sh [SELECTOR] [VAR]
#
# SELECTOR (default: $KERNEL, else 6.1):
#   6.1     Debian bookworm's kernel (the one linux-image-amd64 depends on)
#   rt      Debian's PREEMPT_RT kernel (linux-image-rt-amd64)
#   6.12    the newest 6.12 kernel, from bookworm-backports
#   debug   the debug kernel built by tools/debug-kernel/build
#   X.Y.Z-N-flavour  any kernel version installed under /boot
#
# Prints KVER=, VMLINUZ=, KDIR= (headers, for building the module) and
# MODDIR= (where its modules live) as shell assignments, or just the value
# of VAR if given. Exits 2 with the apt-get line to run if the kernel is
# not installed.
set -eu

sel=${1:-${KERNEL:-6.1}}
var=${2:-}
top=$(cd "$(dirname "$0")/../.." && pwd)

dep_version() {	# the kernel version a Debian meta-package depends on
	dpkg-query -W -f='${Depends}\n' "$1" 2>/dev/null |
		tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n 1
}

newest_boot() {	# newest /boot/vmlinuz-$1*
	ls /boot/vmlinuz-"$1"* 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
		sort -V | tail -n 1
}

pkgs=
case "$sel" in
6.1)	kver=$(dep_version linux-image-amd64)
	case "$kver" in 6.1.*) ;; *) kver=$(newest_boot '6.1.*-amd64') ;; esac
	pkgs="linux-image-amd64 linux-headers-amd64" ;;
rt)	kver=$(dep_version linux-image-rt-amd64)
	[ -n "$kver" ] || kver=$(newest_boot '6.1.*-rt-amd64')
	pkgs="linux-image-rt-amd64 linux-headers-rt-amd64" ;;
6.12)	kver=$(newest_boot '6.12.*-amd64' | grep -v -- '-rt-' || true)
	pkgs="-t bookworm-backports linux-image-amd64 linux-headers-amd64" ;;
debug)	kver=
	dir=$(ls -d "$top"/build/kernels/debug-* 2>/dev/null | tail -n 1 || true)
	if [ -n "$dir" ] && [ -f "$dir/kernel.env" ]; then
		# shellcheck disable=SC1091
		. "$dir/kernel.env"
		kver=$KVER
	fi ;;
*)	kver=$sel ;;
esac

if [ "$sel" = debug ]; then
	if [ -z "$kver" ]; then
		echo "kernel.sh: no debug kernel built yet: run 'make debug-kernel'" >&2
		exit 2
	fi
	vmlinuz=$VMLINUZ
	kdir=$KDIR
	moddir=$MODDIR
else
	vmlinuz=/boot/vmlinuz-$kver
	kdir=/lib/modules/$kver/build
	moddir=/lib/modules/$kver
	if [ -z "$kver" ] || [ ! -r "$vmlinuz" ] || [ ! -d "$kdir" ]; then
		echo "kernel.sh: kernel '$sel' is not installed; run:" >&2
		echo "  apt-get install -y ${pkgs:-linux-image-$sel linux-headers-$sel}" >&2
		exit 2
	fi
fi

case "$var" in
"")	printf 'KVER=%s\nVMLINUZ=%s\nKDIR=%s\nMODDIR=%s\n' \
		"$kver" "$vmlinuz" "$kdir" "$moddir" ;;
KVER)	echo "$kver" ;;
VMLINUZ) echo "$vmlinuz" ;;
KDIR)	echo "$kdir" ;;
MODDIR)	echo "$moddir" ;;
*)	echo "kernel.sh: unknown variable $var" >&2; exit 2 ;;
esac
