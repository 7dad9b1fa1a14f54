#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install (as root) or list (otherwise) the Debian packages a target needs.
#
#   tools/deps.sh [GROUP]...     groups: build check demo rt 6.12 newest debug bench deb trace
#
# As root, missing packages are installed with apt-get; otherwise the
# apt-get lines to run are printed and the script exits 2.
#
#   check  also the newest Go 1.2x of bookworm-backports (golang-1.2x-go,
#          beside bookworm's default Go 1.19), for the Go binding's Go 1.20
#          parts and their tests; adds bookworm-backports to apt's sources
#          if no source has it.
#   check, demo
#          QEMU from bookworm-backports (10.0; qemu-system-x86 and what it
#          needs of backports, seabios among them). bookworm's QEMU 7.2
#          runs two vCPUs under TCG that can execute kernel text the other
#          one has already rewritten: a guest that flips a static key (a
#          tracepoint enabled, a module loaded) dies of "Oops: int3"
#          (tools/vm/text-poke-check).
#   rt     Debian's PREEMPT_RT 6.1 kernel and headers (linux-image-rt-amd64,
#          linux-headers-rt-amd64, from bookworm itself).
#   6.12   the 6.12 kernel that bookworm-backports' linux-image-amd64
#          depends on, installed by its versioned package names
#          (linux-image-6.12.N+debM-amd64, linux-headers-...): the
#          bookworm meta-packages, and so the default 6.1 kernel, stay as
#          they are. Adds bookworm-backports to apt's sources if no source
#          has it (a fresh machine has nothing).
#   newest the newest Debian kernel (trixie-backports' linux-image-amd64):
#          debootstrap and the archive keyring on the host, then
#          tools/newest-kernel/build, which makes a trixie chroot under
#          build/kernels/ (the module is built in it, against the kernel's
#          headers, with trixie's gcc), fetches the kernel's image and
#          modules there, and looks for a newer kernel on later runs. The
#          host's /boot and /lib/modules are not touched.
#   debug  what building the debug kernel (tools/debug-kernel/build) needs.
#   deb    building the Debian packages (make deb: dpkg-buildpackage,
#          lintian) and installing them in the VM (make check-packages:
#          dkms, which signs with openssl's key; udev and systemd-tmpfiles
#          for the boot-time /dev/ctxfd node).
#   trace  bpftrace, for tools/bpftrace-check (the one-liners of
#          Documentation/admin-guide/tracing.rst, run in the VM, which
#          shares the host's root).
#
# ctxd (tools/ctxd) builds with libcurl, json-c and libcrypto (build);
# its selftests and make bench's figure 9 run etcd, ip and curl in the VM
# (check, bench).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

groups=${*:-check}
pkgs=
# The Python and Go bindings (lib/python, lib/go): built, type-checked and
# packaged by make, tested in the VM.
bindings="golang-go golang-golang-x-sys-dev python3 python3-pip python3-setuptools \
python3-wheel python3-mypy python3-pytest python3-uvloop"
# ctxd (tools/ctxd): what it builds with, and what its tests and figure 9
# run in the VM (a 3-member etcd cluster on loopback, ip for partitions).
ctxd_build="libcurl4-openssl-dev libjson-c-dev libssl-dev"
ctxd_run="etcd-server etcd-client iproute2 curl"
# QEMU from bookworm-backports, with the three packages it needs at
# backports' versions, named: apt does not always follow "pkg/release" to
# the dependencies by itself (on 2026-12-07 it kept bookworm's
# qemu-system-common and gave up).
qemu_bp="qemu-system-x86/bookworm-backports qemu-system-common/bookworm-backports \
qemu-system-data/bookworm-backports seabios/bookworm-backports"
want612=0
wantqemu=0
wantnewest=0
wantgonew=0
for g in $groups; do
	case "$g" in
	build)	pkgs="$pkgs build-essential linux-headers-amd64 linux-source-6.1 xz-utils libkmod-dev pkg-config $bindings $ctxd_build" ;;
	check|demo)
		[ "$g" = check ] && wantgonew=1
		wantqemu=1
		pkgs="$pkgs build-essential linux-image-amd64 linux-headers-amd64 linux-source-6.1 xz-utils libkmod-dev pkg-config \
busybox-static cpio bc kmod file procps valgrind \
python3-docutils groff-base clang $bindings $ctxd_build $ctxd_run" ;;
	rt)	pkgs="$pkgs linux-image-rt-amd64 linux-headers-rt-amd64" ;;
	6.12)	want612=1 ;;
	newest)	wantnewest=1
		pkgs="$pkgs debootstrap debian-archive-keyring kmod util-linux xz-utils" ;;
	debug)	pkgs="$pkgs build-essential linux-source-6.1 xz-utils flex bison bc perl libelf-dev libssl-dev kmod util-linux" ;;
	bench)	pkgs="$pkgs procps $ctxd_run" ;;
	trace)	pkgs="$pkgs bpftrace bc" ;;
	deb)	pkgs="$pkgs build-essential dpkg-dev debhelper dh-dkms dkms libkmod-dev pkg-config \
python3-docutils lintian openssl udev systemd util-linux kmod xz-utils $ctxd_build" ;;
	*)	echo "deps.sh: unknown group $g" >&2; exit 2 ;;
	esac
done

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=
for p in $pkgs; do
	installed "$p" || missing="$missing $p"
done

# 6.12: satisfied by any installed 6.12 (non-rt) kernel with its headers.
need612=0
if [ "$want612" = 1 ]; then
	need612=1
	for v in $(ls /boot/ 2>/dev/null | sed -n 's/^vmlinuz-\(6\.12\..*-amd64\)$/\1/p'); do
		case "$v" in *-rt-amd64) continue ;; esac
		[ -d "/lib/modules/$v/build" ] && need612=0
	done
fi

# check, demo: QEMU 10 or later (see the top): bookworm-backports' when
# the installed one is older or there is none.
needqemu=0
if [ "$wantqemu" = 1 ]; then
	qv=$(dpkg-query -W -f='${Status} ${Version}\n' qemu-system-x86 2>/dev/null |
		sed -n 's/^install ok installed //p')
	if [ -z "$qv" ] || dpkg --compare-versions "$qv" lt 1:10; then
		needqemu=1
	fi
fi

# check: a Go of 1.20 or later beside bookworm's 1.19 (lib/go/go.mk builds
# the binding's Go 1.20 parts, context.Cause, and their tests with it);
# bookworm has none, so it comes from bookworm-backports (golang-1.2x-go,
# in /usr/lib/go-1.2x: bookworm's go stays the default).
needgonew=0
if [ "$wantgonew" = 1 ] && ! ls /usr/lib/go-1.2*/bin/go >/dev/null 2>&1; then
	needgonew=1
fi

# newest: the chroot and kernel of tools/newest-kernel/build. As root it
# also runs when all is there, to look for a newer kernel (a few seconds).
neednewest=0
if [ "$wantnewest" = 1 ]; then
	if [ "$(id -u)" = 0 ]; then
		neednewest=1
	elif ! "$top/tools/newest-kernel/build" --check; then
		neednewest=1
	fi
fi

newest() {
	[ "$wantnewest" = 1 ] || return 0
	"$top/tools/newest-kernel/build"
}

if [ -z "$missing" ] && [ "$need612" = 0 ] && [ "$needgonew" = 0 ] &&
	[ "$needqemu" = 0 ]; then
	[ "$neednewest" = 0 ] && exit 0
	if [ "$(id -u)" = 0 ]; then
		newest
		exit
	fi
fi

bp_source() {	# is bookworm-backports among apt's sources?
	grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages; as root, run:" >&2
	[ -n "$missing" ] && echo "  apt-get install -y --no-install-recommends$missing" >&2
	if [ "$need612" = 1 ] || [ "$needgonew" = 1 ] || [ "$needqemu" = 1 ]; then
		bp_source ||
			echo "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/ctxfd-backports.list && apt-get update" >&2
	fi
	[ "$needqemu" = 1 ] &&
		echo "  apt-get install -y --no-install-recommends $qemu_bp" >&2
	[ "$needgonew" = 1 ] &&
		echo "  apt-get install -y --no-install-recommends \$(apt-cache pkgnames golang-1.2 | grep -E '^golang-1\.2[0-9]-go\$' | sort -V | tail -n 1)" >&2
	if [ "$need612" = 1 ]; then
		echo "  v=\$(apt-cache show 'linux-image-amd64/bookworm-backports' | sed -n 's/^Depends: linux-image-\([^ ,]*\).*/\1/p' | head -n 1)" >&2
		echo "  apt-get install -y --no-install-recommends linux-image-\$v linux-headers-\$v" >&2
	fi
	[ "$neednewest" = 1 ] && echo "  tools/newest-kernel/build" >&2
	exit 2
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
	echo "deps.sh: installing $*" >&2
	apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@" >/dev/null
}

if { [ "$need612" = 1 ] || [ "$needgonew" = 1 ] || [ "$needqemu" = 1 ]; } &&
	! bp_source; then
	echo "deps.sh: adding bookworm-backports to apt's sources" >&2
	echo 'deb http://deb.debian.org/debian bookworm-backports main' \
		> /etc/apt/sources.list.d/ctxfd-backports.list
fi
apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing

if [ "$needqemu" = 1 ]; then
	# Only these come from backports; should backports' QEMU need one
	# more package someday, -t lets apt take it from there too.
	# shellcheck disable=SC2086
	apt_install $qemu_bp || apt_install -t bookworm-backports qemu-system-x86
	qv=$(dpkg-query -W -f='${Version}' qemu-system-x86)
	if dpkg --compare-versions "$qv" lt 1:10; then
		echo "deps.sh: bookworm-backports' QEMU is $qv, older than 10: guests may die of \"Oops: int3\" under TCG (tools/vm/text-poke-check)" >&2
		exit 1
	fi
fi

if [ "$need612" = 1 ]; then
	# The kernel bookworm-backports' linux-image-amd64 depends on, e.g.
	# 6.12.95+deb12-amd64; its image and headers packages come only from
	# backports, so no -t is needed and nothing else gets upgraded.
	v=$(apt-cache show 'linux-image-amd64/bookworm-backports' 2>/dev/null |
		sed -n 's/^Depends: linux-image-\([^ ,]*\).*/\1/p' | head -n 1)
	case "$v" in
	6.12.*-amd64) ;;
	*)	echo "deps.sh: bookworm-backports' linux-image-amd64 is not a 6.12 kernel (${v:-none})" >&2
		exit 1 ;;
	esac
	apt_install "linux-image-$v" "linux-headers-$v"
fi

if [ "$needgonew" = 1 ]; then
	gonew=$(apt-cache pkgnames golang-1.2 | grep -E '^golang-1\.2[0-9]-go$' |
		sort -V | tail -n 1)
	if [ -n "$gonew" ]; then
		apt_install "$gonew"
	else
		echo "deps.sh: no golang-1.2x-go in bookworm-backports: the Go binding's Go 1.20 parts (context.Cause) will not be tested" >&2
	fi
fi

newest
