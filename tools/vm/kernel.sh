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
#   debug   the debug kernel built by tools/debug-kernel/build (make
#           debug-kernel), for the current config fragments
#   newest  the newest Debian kernel (trixie-backports' linux-image-amd64),
#           set up by tools/newest-kernel/build (tools/deps.sh newest):
#           its image and modules under build/, its headers in a trixie
#           chroot where the module is built
#   X.Y.Z-N-flavour  any kernel version installed under /boot
#
# Prints KVER=, VMLINUZ=, KDIR= (headers, for building the module),
# MODDIR= (where its modules live), CMDLINE= (extra kernel command line
# for the VM: tools/debug-kernel/cmdline, tools/newest-kernel/cmdline)
# and CHROOT= (the chroot to build the module in, where KDIR lies; only
# the newest kernel has one) as shell assignments, or just the value of VAR if given. Exits 2 with the
# apt-get line to run if the kernel is not installed.
set -eu

sel=${1:-${KERNEL:-6.1}}
var=${2:-}
top=$(cd "$(dirname "$0")/../.." && pwd)

dep_version() {	# the kernel version a Debian meta-package depends on
	dpkg-query -W -f='${Depends}\n' "$1" 2>/dev/null |
		tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n 1
}

newest_boot() {	# newest /boot/vmlinuz-$1*, not matching $2 if given
	# shellcheck disable=SC2086  # $1 is a glob
	ls /boot/vmlinuz-$1* 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
		grep -v -e "${2:-^$}" | sort -V | tail -n 1
}

pkgs=
cmdline=
chroot=
case "$sel" in
6.1)	kver=$(dep_version linux-image-amd64)
	case "$kver" in 6.1.*) ;; *) kver=$(newest_boot '6.1.*-amd64' '-rt-amd64$') ;; esac
	pkgs="linux-image-amd64 linux-headers-amd64" ;;
rt)	kver=$(dep_version linux-image-rt-amd64)
	[ -n "$kver" ] || kver=$(newest_boot '6.1.*-rt-amd64')
	pkgs="linux-image-rt-amd64 linux-headers-rt-amd64" ;;
6.12)	kver=$(newest_boot '6.12.*-amd64' '-rt-amd64$')
	pkgs="linux-image-6.12.N+debM-amd64 linux-headers-6.12.N+debM-amd64 (as root: tools/deps.sh 6.12)" ;;
debug)	kver=
	# The build for the current configuration (its hash), never a stale one.
	dir=$("$top/tools/debug-kernel/build" --dir)
	if [ -f "$dir/kernel.env" ]; then
		# shellcheck disable=SC1091
		. "$dir/kernel.env"
		kver=$KVER
	fi ;;
newest)	kver=
	dir=$("$top/tools/newest-kernel/build" --dir)
	if [ -f "$dir/kernel.env" ]; then
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
	cmdline=$(sed 's/#.*//' "$top/tools/debug-kernel/cmdline" | xargs)
elif [ "$sel" = newest ]; then
	if [ -z "$kver" ]; then
		echo "kernel.sh: the newest Debian kernel is not set up yet: run 'tools/deps.sh newest' as root" >&2
		exit 2
	fi
	vmlinuz=$VMLINUZ
	kdir=$KDIR
	moddir=$MODDIR
	chroot=$CHROOT
	cmdline=$(sed 's/#.*//' "$top/tools/newest-kernel/cmdline" | xargs)
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
"")	printf 'KVER=%s\nVMLINUZ=%s\nKDIR=%s\nMODDIR=%s\nCMDLINE='"'%s'"'\nCHROOT=%s\n' \
		"$kver" "$vmlinuz" "$kdir" "$moddir" "$cmdline" "$chroot" ;;
KVER)	echo "$kver" ;;
VMLINUZ) echo "$vmlinuz" ;;
KDIR)	echo "$kdir" ;;
MODDIR)	echo "$moddir" ;;
CMDLINE) echo "$cmdline" ;;
CHROOT)	echo "$chroot" ;;
*)	echo "kernel.sh: unknown variable $var" >&2; exit 2 ;;
esac
