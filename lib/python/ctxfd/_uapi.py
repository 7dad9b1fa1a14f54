# SPDX-License-Identifier: LGPL-2.1-or-later
"""The kernel interface, uapi/linux/ctxfd.h, and nothing else.

Every struct layout, ioctl number and flag of the uapi lives here, and so
does every encoding and decoding of them: the rest of the package calls
the functions at the bottom of this file and never touches a struct.

The structs are extensible by size (the size is encoded in the ioctl
number): a struct grows by fields appended here, and the kernel fills in
what it knows (struct ctxfd_info's mask says which groups) and zero-fills
the rest, so decoding by the size this file knows is always right.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import time
from typing import NamedTuple, Optional, Tuple

DEVICE = "/dev/ctxfd"
ENV = "CTXFD"
CAUSE_MSG_MAX = 127

# struct ctxfd_create::flags
CREATE_NO_CLOEXEC = 1 << 0
CREATE_NO_CANCEL_ON_CLOSE = 1 << 1
CREATE_DEADLINE = 1 << 2
CREATE_TIMEOUT = 1 << 3
CREATE_VALUE = 1 << 4
CREATE_WITHOUT_CANCEL = 1 << 5

WATCH_NO_CLOEXEC = 1 << 0

# struct ctxfd_info::mask and ::flags
INFO_ID = 1 << 0
INFO_STATE = 1 << 1
INFO_CAUSE = 1 << 2
INFO_DEADLINE = 1 << 3
INFO_ATTACH = 1 << 4

INFO_DONE = 1 << 0
INFO_CAN_CANCEL = 1 << 1
INFO_NO_CANCEL_ON_CLOSE = 1 << 2
INFO_VALUE = 1 << 3
INFO_WITHOUT_CANCEL = 1 << 4
INFO_HAS_DEADLINE = 1 << 5
INFO_OWN_TIMER = 1 << 6

ATTACH_DESCENDANTS = 1 << 0
ATTACH_DESCENDANTS_ONLY = 1 << 1
ATTACH_GRACE_MAX_NS = 86400 * 1_000_000_000

CLOCK_MONOTONIC = 1
CLOCK_BOOTTIME = 7

# The cause code this package records for a cause given as a message or
# an exception, with no code of its own. Codes are the canceler's choice;
# the uapi may reserve a range later, and this is the one place to follow
# it.
CAUSE_CODE_DEFAULT = 1

_u64, _s64, _u32, _s32 = ctypes.c_uint64, ctypes.c_int64, ctypes.c_uint32, ctypes.c_int32


class _Cause(ctypes.Structure):
    _fields_ = [("code", _s32), ("msg_len", _u32), ("msg", _u64)]


class _Create(ctypes.Structure):
    _fields_ = [
        ("flags", _u64),
        ("deadline_ns", _s64),
        ("clockid", _u32),
        ("reserved0", _u32),
        ("deadline_cause", _Cause),
        ("key", _u64),
        ("value", _u64),
        ("key_len", _u32),
        ("value_len", _u32),
    ]


class _Cancel(ctypes.Structure):
    _fields_ = [("flags", _u64), ("cause", _Cause)]


class _Watch(ctypes.Structure):
    _fields_ = [("flags", _u64)]


class _Info(ctypes.Structure):
    _fields_ = [
        ("mask", _u64),
        ("id", _u64),
        ("parent_id", _u64),
        ("flags", _u64),
        ("depth", _u32),
        ("err", _s32),
        ("cause_code", _s32),
        ("nr_children", _u32),
        ("deadline_ns", _s64),
        ("clockid", _u32),
        ("cause_msg_len", _u32),
        ("cause_msg", ctypes.c_char * (CAUSE_MSG_MAX + 1)),
        ("nr_attached", _u32),
        ("reserved", _u32),
    ]


class _Lookup(ctypes.Structure):
    _fields_ = [
        ("flags", _u64),
        ("key", _u64),
        ("value", _u64),
        ("key_len", _u32),
        ("value_len", _u32),
        ("owner_id", _u64),
        ("result_flags", _u32),
        ("_reserved", _u32),
    ]


# struct ctxfd_lookup's result_flags: which kind of binding was found.
LOOKUP_NIL = 1 << 0
LOOKUP_VALUE = 1 << 1


class _Attach(ctypes.Structure):
    _fields_ = [
        ("flags", _u64),
        ("pidfd", _s32),
        ("signal", _u32),
        ("grace_ns", _u64),
        ("pid", _s32),
        ("reserved", _u32),
    ]


class _Event(ctypes.Structure):
    _fields_ = [("id", _u64), ("err", _s32), ("cause_code", _s32)]


# The first published sizes (..._SIZE_VER0): a struct may only grow.
for _s, _size in ((_Create, 64), (_Cancel, 24), (_Watch, 8), (_Info, 200),
                  (_Lookup, 40), (_Attach, 32), (_Event, 16)):
    assert ctypes.sizeof(_s) >= _size, (_s.__name__, ctypes.sizeof(_s))
del _s, _size

_MAGIC = 0xC7
_IOC_WRITE, _IOC_READ = 1, 2


def _ioc(direction: int, nr: int, struct: type) -> int:
    return (direction << 30) | (ctypes.sizeof(struct) << 16) | (_MAGIC << 8) | nr


IOC_NEW = _ioc(_IOC_WRITE, 0x01, _Create)
IOC_CREATE = _ioc(_IOC_WRITE, 0x02, _Create)
IOC_CANCEL = _ioc(_IOC_WRITE, 0x03, _Cancel)
IOC_WATCH = _ioc(_IOC_WRITE, 0x04, _Watch)
IOC_INFO = _ioc(_IOC_READ, 0x05, _Info)
IOC_LOOKUP = _ioc(_IOC_READ | _IOC_WRITE, 0x06, _Lookup)
IOC_ATTACH = _ioc(_IOC_WRITE, 0x07, _Attach)

EVENT_SIZE = ctypes.sizeof(_Event)


# ---- decoded views ---------------------------------------------------------


class Info(NamedTuple):
    """What CTXFD_IOC_INFO reports, decoded (see ctxfd.Context.info())."""

    id: int
    parent_id: int
    depth: int
    done: bool
    can_cancel: bool
    kind: str  # "cancel", "value" or "without-cancel"
    cancel_on_close: bool
    err: int  # 0, errno.ECANCELED or errno.ETIMEDOUT
    cause_code: int  # 0 while active; equals err when no cause was given
    cause_message: str
    deadline_ns: Optional[int]  # on clockid, None without a deadline
    clockid: int
    own_timer: bool
    nr_children: int
    nr_attached: int

    @property
    def explicit_cause(self) -> bool:
        """True if whoever canceled gave a cause (a code or a message)."""
        return self.done and (self.cause_code != self.err or bool(self.cause_message))


def _decode_info(raw: _Info) -> Info:
    flags = raw.flags
    if flags & INFO_WITHOUT_CANCEL:
        kind = "without-cancel"
    elif flags & INFO_VALUE:
        kind = "value"
    else:
        kind = "cancel"
    msg = bytes(raw.cause_msg[: min(raw.cause_msg_len, CAUSE_MSG_MAX)])
    return Info(
        id=raw.id,
        parent_id=raw.parent_id,
        depth=raw.depth,
        done=bool(flags & INFO_DONE),
        can_cancel=bool(flags & INFO_CAN_CANCEL),
        kind=kind,
        cancel_on_close=not (flags & INFO_NO_CANCEL_ON_CLOSE),
        err=raw.err,
        cause_code=raw.cause_code,
        cause_message=msg.decode("utf-8", "replace"),
        deadline_ns=raw.deadline_ns if flags & INFO_HAS_DEADLINE else None,
        clockid=raw.clockid,
        own_timer=bool(flags & INFO_OWN_TIMER),
        nr_children=raw.nr_children,
        nr_attached=raw.nr_attached if raw.mask & INFO_ATTACH else 0,
    )


# ---- calls -----------------------------------------------------------------


def _ioctl(fd: int, request: int, arg: ctypes.Structure, what: str) -> int:
    try:
        return int(fcntl.ioctl(fd, request, arg, True))
    except OSError as e:
        raise _oserror(e.errno or errno.EIO, what) from None


def _oserror(err: int, what: str) -> OSError:
    msg = f"{what}: {os.strerror(err)}"
    if err == errno.ENOTTY:
        msg += " (not a ctxfd context descriptor?)"
    return OSError(err, msg)


def _buffer(data: bytes) -> Tuple["ctypes.Array[ctypes.c_char]", int]:
    """A C copy of data and its address. Keep the buffer until the call
    returns. An empty string still gets a non-zero address."""
    buf = ctypes.create_string_buffer(data, max(len(data), 1))
    return buf, ctypes.addressof(buf)


def clip_message(message: str) -> bytes:
    """A cause message as the kernel takes it: UTF-8 without NUL bytes, at
    most CAUSE_MSG_MAX bytes, cut at a character boundary (Go's rule that
    cancel always cancels: a long message is shortened, never refused)."""
    data = message.replace("\0", "\ufffd").encode("utf-8", "replace")
    if len(data) <= CAUSE_MSG_MAX:
        return data
    return data[:CAUSE_MSG_MAX].decode("utf-8", "ignore").encode("utf-8")


def open_device() -> int:
    try:
        return os.open(DEVICE, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT,
            f"{DEVICE} is missing: is the ctxfd kernel module loaded? (modprobe ctxfd)",
            DEVICE,
        ) from None
    except OSError as e:
        raise OSError(e.errno, f"open {DEVICE}: {os.strerror(e.errno or errno.EIO)}", DEVICE) from None


def create(parent_fd: Optional[int], *, timeout_ns: Optional[int] = None,
           deadline_ns: Optional[int] = None, deadline_cause: Tuple[int, bytes] = (0, b""),
           key: Optional[bytes] = None, value: Optional[bytes] = None,
           without_cancel: bool = False, no_cancel_on_close: bool = False,
           inheritable: bool = False) -> int:
    """CTXFD_IOC_CREATE on parent_fd, or CTXFD_IOC_NEW (a root) if None.

    key set: a values-only context binding key to value (None: Go's nil).
    Returns the new fd.
    """
    args = _Create()
    keep = []
    if inheritable:
        args.flags |= CREATE_NO_CLOEXEC
    if no_cancel_on_close:
        args.flags |= CREATE_NO_CANCEL_ON_CLOSE
    if timeout_ns is not None:
        args.flags |= CREATE_TIMEOUT
        args.deadline_ns = max(0, timeout_ns)
        args.clockid = CLOCK_MONOTONIC
    elif deadline_ns is not None:
        args.flags |= CREATE_DEADLINE
        args.deadline_ns = max(0, deadline_ns)
        args.clockid = CLOCK_MONOTONIC
    if (timeout_ns is not None or deadline_ns is not None) and deadline_cause[0]:
        code, msg = deadline_cause
        args.deadline_cause.code = code
        if msg:
            buf, args.deadline_cause.msg = _buffer(msg)
            args.deadline_cause.msg_len = len(msg)
            keep.append(buf)
    if without_cancel:
        args.flags |= CREATE_WITHOUT_CANCEL
    if key is not None:
        args.flags |= CREATE_VALUE
        kbuf, args.key = _buffer(key)
        args.key_len = len(key)
        keep.append(kbuf)
        if value is not None:
            # An empty value is bound with a non-zero pointer: the empty
            # string, distinct from nil (a kernel that predates that
            # distinction refuses it with EINVAL).
            vbuf, args.value = _buffer(value)
            args.value_len = len(value)
            keep.append(vbuf)
    if parent_fd is None:
        dev = open_device()
        try:
            return _ioctl(dev, IOC_NEW, args, "CTXFD_IOC_NEW")
        finally:
            os.close(dev)
    return _ioctl(parent_fd, IOC_CREATE, args, "CTXFD_IOC_CREATE")


def background_fd(inheritable: bool) -> int:
    """A watch-only fd on a new root that nothing can cancel: how a
    never-done context (Background) travels to another process."""
    root = create(None, no_cancel_on_close=True)
    try:
        return watch(root, inheritable)
    finally:
        os.close(root)


def cancel(fd: int, code: int = 0, message: bytes = b"") -> None:
    args = _Cancel()
    args.cause.code = code
    keep = None
    if message:
        keep, args.cause.msg = _buffer(message)
        args.cause.msg_len = len(message)
    _ioctl(fd, IOC_CANCEL, args, "CTXFD_IOC_CANCEL")
    del keep


def watch(fd: int, inheritable: bool = False) -> int:
    args = _Watch(WATCH_NO_CLOEXEC if inheritable else 0)
    return _ioctl(fd, IOC_WATCH, args, "CTXFD_IOC_WATCH")


def info(fd: int) -> Info:
    raw = _Info()
    _ioctl(fd, IOC_INFO, raw, "CTXFD_IOC_INFO")
    return _decode_info(raw)


def lookup(fd: int, key: bytes) -> Tuple[bool, Optional[bytes]]:
    """(found, value) of the nearest binding of key; value None for a nil
    binding.

    The kernel says which in result_flags; a kernel that predates the
    flags leaves them zero, and binds the empty string only as nil there,
    so a found empty value without LOOKUP_VALUE is nil.
    """
    kbuf, kaddr = _buffer(key)
    size = 64
    while True:
        args = _Lookup()
        args.key, args.key_len = kaddr, len(key)
        vbuf = ctypes.create_string_buffer(size)
        args.value, args.value_len = ctypes.addressof(vbuf), size
        try:
            fcntl.ioctl(fd, IOC_LOOKUP, args, True)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return False, None
            if e.errno == errno.ERANGE and args.value_len > size:
                size = args.value_len
                continue
            raise _oserror(e.errno or errno.EIO, "CTXFD_IOC_LOOKUP") from None
        del kbuf
        if args.result_flags & LOOKUP_NIL:
            return True, None
        if args.value_len == 0 and not args.result_flags & LOOKUP_VALUE:
            return True, None
        return True, vbuf.raw[: args.value_len]


def attach(fd: int, pid: int, signal: int, grace_ns: int, flags: int) -> None:
    """CTXFD_IOC_ATTACH: signal pid (and its tree, by flags) when done.

    The pidfd pins the process: a pid that is not waited for yet (a child
    of ours, even a zombie) cannot be reused meanwhile.
    """
    pidfd = os.pidfd_open(pid)
    try:
        args = _Attach(flags=flags, pidfd=pidfd, signal=signal, grace_ns=grace_ns, pid=pid)
        _ioctl(fd, IOC_ATTACH, args, f"CTXFD_IOC_ATTACH (pid {pid})")
    finally:
        os.close(pidfd)


def parse_event(data: bytes) -> Tuple[int, int, int]:
    """(id, err, cause_code) of the record read() returns once done."""
    ev = _Event.from_buffer_copy(data[:EVENT_SIZE])
    return ev.id, ev.err, ev.cause_code


def monotonic_from(deadline_ns: int, clockid: int) -> float:
    """A deadline on clockid as seconds on time.monotonic()'s clock."""
    if clockid == CLOCK_BOOTTIME:
        offset = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.monotonic_ns()
        deadline_ns -= offset
    return deadline_ns / 1e9
