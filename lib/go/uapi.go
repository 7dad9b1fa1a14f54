// SPDX-License-Identifier: LGPL-2.1-or-later

package ctxfd

// The kernel interface, uapi/linux/ctxfd.h, and nothing else: every struct
// layout, ioctl number and flag lives here, and so does every encoding and
// decoding of them. The rest of the package calls the functions at the
// bottom of this file and never touches a struct.
//
// The structs are extensible by size (the size is encoded in the ioctl
// number): a struct grows by fields appended here, and the kernel fills in
// what it knows (ctxfdInfo's mask says which groups) and zero-fills the
// rest, so decoding by the size this file knows is always right.

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	devicePath   = "/dev/ctxfd"
	envName      = "CTXFD"
	causeMsgMax  = 127
	clockMono    = 1 // CLOCK_MONOTONIC
	clockBoot    = 7 // CLOCK_BOOTTIME
	graceMaxNano = 86400 * 1000000000

	createNoCloexec       = 1 << 0
	createNoCancelOnClose = 1 << 1
	createDeadline        = 1 << 2
	createTimeout         = 1 << 3
	createValue           = 1 << 4
	createWithoutCancel   = 1 << 5

	watchNoCloexec = 1 << 0

	infoMaskAttach = 1 << 4

	infoDone            = 1 << 0
	infoCanCancel       = 1 << 1
	infoNoCancelOnClose = 1 << 2
	infoValue           = 1 << 3
	infoWithoutCancel   = 1 << 4
	infoHasDeadline     = 1 << 5

	attachDescendants     = 1 << 0
	attachDescendantsOnly = 1 << 1
)

// CauseCodeDefault is the cause code recorded for a cause given as a Go
// error that is not a *CauseError: codes are the canceler's choice, and
// this is the one place to follow a range the kernel may reserve later.
const CauseCodeDefault = 1

type ctxfdCause struct {
	Code   int32
	MsgLen uint32
	Msg    uint64
}

type ctxfdCreate struct {
	Flags         uint64
	DeadlineNs    int64
	Clockid       uint32
	_             uint32
	DeadlineCause ctxfdCause
	Key           uint64
	Value         uint64
	KeyLen        uint32
	ValueLen      uint32
}

type ctxfdCancel struct {
	Flags uint64
	Cause ctxfdCause
}

type ctxfdWatch struct {
	Flags uint64
}

type ctxfdInfo struct {
	Mask        uint64
	ID          uint64
	ParentID    uint64
	Flags       uint64
	Depth       uint32
	Err         int32
	CauseCode   int32
	NrChildren  uint32
	DeadlineNs  int64
	Clockid     uint32
	CauseMsgLen uint32
	CauseMsg    [causeMsgMax + 1]byte
	NrAttached  uint32
	_           uint32
}

type ctxfdLookup struct {
	Flags       uint64
	Key         uint64
	Value       uint64
	KeyLen      uint32
	ValueLen    uint32
	OwnerID     uint64
	ResultFlags uint32
	_           uint32
}

// struct ctxfd_lookup's result_flags: which kind of binding was found.
const (
	lookupNil   = 1 << 0
	lookupValue = 1 << 1
)

type ctxfdAttach struct {
	Flags   uint64
	Pidfd   int32
	Signal  uint32
	GraceNs uint64
	Pid     int32
	_       uint32
}

// The published sizes these structs have (..._SIZE_VER0, or _VER1 where
// the binding reads the newer fields): a struct may only grow.
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdCreate{})-64]
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdCancel{})-24]
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdWatch{})-8]
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdInfo{})-200]
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdLookup{})-48] // VER1: result_flags
var _ = [1]struct{}{}[unsafe.Sizeof(ctxfdAttach{})-32]

const eventSize = 16 // struct ctxfd_event

func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | 0xC7<<8 | nr
}

const iocWrite, iocRead = 1, 2

var (
	iocNew    = ioc(iocWrite, 0x01, unsafe.Sizeof(ctxfdCreate{}))
	iocCreate = ioc(iocWrite, 0x02, unsafe.Sizeof(ctxfdCreate{}))
	iocCancel = ioc(iocWrite, 0x03, unsafe.Sizeof(ctxfdCancel{}))
	iocWatch  = ioc(iocWrite, 0x04, unsafe.Sizeof(ctxfdWatch{}))
	iocInfo   = ioc(iocRead, 0x05, unsafe.Sizeof(ctxfdInfo{}))
	iocLookup = ioc(iocRead|iocWrite, 0x06, unsafe.Sizeof(ctxfdLookup{}))
	iocAttach = ioc(iocWrite, 0x07, unsafe.Sizeof(ctxfdAttach{}))
)

// ---- decoded views ------------------------------------------------------

// Info is what the kernel reports about a context (CTXFD_IOC_INFO).
type Info struct {
	ID, ParentID  uint64
	Depth         uint32
	Done          bool
	CanCancel     bool
	Kind          string // "cancel", "value" or "without-cancel"
	CancelOnClose bool
	Err           syscall.Errno // 0, ECANCELED or ETIMEDOUT
	CauseCode     int32         // 0 while active; Err when no cause was given
	CauseMessage  string
	HasDeadline   bool
	DeadlineNs    int64 // on Clockid
	Clockid       int32
	NrChildren    uint32
	NrAttached    uint32
}

// explicitCause reports whether whoever canceled gave a cause.
func (i *Info) explicitCause() bool {
	return i.Done && (i.CauseCode != int32(i.Err) || i.CauseMessage != "")
}

func decodeInfo(raw *ctxfdInfo) Info {
	kind := "cancel"
	switch {
	case raw.Flags&infoWithoutCancel != 0:
		kind = "without-cancel"
	case raw.Flags&infoValue != 0:
		kind = "value"
	}
	n := raw.CauseMsgLen
	if n > causeMsgMax {
		n = causeMsgMax
	}
	i := Info{
		ID:            raw.ID,
		ParentID:      raw.ParentID,
		Depth:         raw.Depth,
		Done:          raw.Flags&infoDone != 0,
		CanCancel:     raw.Flags&infoCanCancel != 0,
		Kind:          kind,
		CancelOnClose: raw.Flags&infoNoCancelOnClose == 0,
		Err:           syscall.Errno(raw.Err),
		CauseCode:     raw.CauseCode,
		CauseMessage:  string(raw.CauseMsg[:n]),
		HasDeadline:   raw.Flags&infoHasDeadline != 0,
		DeadlineNs:    raw.DeadlineNs,
		Clockid:       int32(raw.Clockid),
		NrChildren:    raw.NrChildren,
	}
	if raw.Mask&infoMaskAttach != 0 {
		i.NrAttached = raw.NrAttached
	}
	return i
}

// ---- calls -------------------------------------------------------------

// OpError is a failed ioctl or open: which call, and the errno.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string {
	msg := e.Op + ": " + e.Err.Error()
	if errors.Is(e.Err, syscall.ENOTTY) {
		msg += " (not a ctxfd context descriptor?)"
	}
	return "ctxfd: " + msg
}

func (e *OpError) Unwrap() error { return e.Err }

// ioctl with a pointer to a struct whose pointer fields (uint64) point to
// buffers allocated by cbuf: the caller keeps them alive (runtime.KeepAlive)
// until ioctl returns.
func ioctl(fd int, req uintptr, arg unsafe.Pointer, op string) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return -1, &OpError{Op: op, Err: e}
	}
	return int(r), nil
}

// cbuf is a heap copy of data (never moved: Go's heap does not move) and
// its address for a uint64 pointer field. An empty string still gets a
// non-zero address.
func cbuf(data string) ([]byte, uint64) {
	n := len(data)
	if n == 0 {
		n = 1
	}
	b := make([]byte, n)
	copy(b, data)
	return b, uint64(uintptr(unsafe.Pointer(&b[0])))
}

// clipMessage makes a cause message what the kernel takes: no NUL bytes, at
// most causeMsgMax bytes, cut at a UTF-8 boundary (Go's rule that cancel
// always cancels: a long message is shortened, never refused).
func clipMessage(msg string) string {
	msg = strings.ReplaceAll(msg, "\x00", "\uFFFD")
	if len(msg) <= causeMsgMax {
		return msg
	}
	cut := causeMsgMax
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut]
}

func openDevice() (int, error) {
	fd, err := unix.Open(devicePath, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, &OpError{Op: "open " + devicePath, Err: fmt.Errorf("%w: is the ctxfd kernel module loaded? (modprobe ctxfd)", err)}
		}
		return -1, &OpError{Op: "open " + devicePath, Err: err}
	}
	return fd, nil
}

// createArgs describes a new context for kcreate.
type createArgs struct {
	deadlineNs    int64 // with hasDeadline: absolute, on CLOCK_MONOTONIC
	hasDeadline   bool
	deadlineCode  int32
	deadlineMsg   string
	value         bool
	key           string
	val           *string // nil: Go's nil binding
	withoutCancel bool
	noCancelClose bool
	inheritable   bool
}

// kcreate is CTXFD_IOC_CREATE on parent, or CTXFD_IOC_NEW (a root) with
// parent < 0. Returns the new fd.
func kcreate(parent int, a *createArgs) (int, error) {
	var args ctxfdCreate
	var keep [3][]byte
	if a.inheritable {
		args.Flags |= createNoCloexec
	}
	if a.noCancelClose {
		args.Flags |= createNoCancelOnClose
	}
	if a.hasDeadline {
		args.Flags |= createDeadline
		if a.deadlineNs > 0 {
			args.DeadlineNs = a.deadlineNs
		}
		args.Clockid = clockMono
		if a.deadlineCode != 0 {
			args.DeadlineCause.Code = a.deadlineCode
			if a.deadlineMsg != "" {
				keep[0], args.DeadlineCause.Msg = cbuf(a.deadlineMsg)
				args.DeadlineCause.MsgLen = uint32(len(a.deadlineMsg))
			}
		}
	}
	if a.withoutCancel {
		args.Flags |= createWithoutCancel
	}
	if a.value {
		args.Flags |= createValue
		keep[1], args.Key = cbuf(a.key)
		args.KeyLen = uint32(len(a.key))
		if a.val != nil {
			// An empty value is bound with a non-zero pointer: the
			// empty string, distinct from nil (a kernel that predates
			// that distinction refuses it with EINVAL).
			keep[2], args.Value = cbuf(*a.val)
			args.ValueLen = uint32(len(*a.val))
		}
	}
	var fd int
	var err error
	if parent < 0 {
		dev, derr := openDevice()
		if derr != nil {
			return -1, derr
		}
		fd, err = ioctl(dev, iocNew, unsafe.Pointer(&args), "CTXFD_IOC_NEW")
		unix.Close(dev)
	} else {
		fd, err = ioctl(parent, iocCreate, unsafe.Pointer(&args), "CTXFD_IOC_CREATE")
	}
	runtime.KeepAlive(keep)
	return fd, err
}

// kbackground is a watch-only fd on a new root nothing can cancel: how a
// never-done context (Background) travels to another process.
func kbackground(inheritable bool) (int, error) {
	root, err := kcreate(-1, &createArgs{noCancelClose: true})
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	return kwatch(root, inheritable)
}

func kcancel(fd int, code int32, msg string) error {
	var args ctxfdCancel
	var keep []byte
	args.Cause.Code = code
	if msg != "" {
		keep, args.Cause.Msg = cbuf(msg)
		args.Cause.MsgLen = uint32(len(msg))
	}
	_, err := ioctl(fd, iocCancel, unsafe.Pointer(&args), "CTXFD_IOC_CANCEL")
	runtime.KeepAlive(keep)
	return err
}

func kwatch(fd int, inheritable bool) (int, error) {
	var args ctxfdWatch
	if inheritable {
		args.Flags = watchNoCloexec
	}
	return ioctl(fd, iocWatch, unsafe.Pointer(&args), "CTXFD_IOC_WATCH")
}

func kinfo(fd int) (Info, error) {
	var raw ctxfdInfo
	if _, err := ioctl(fd, iocInfo, unsafe.Pointer(&raw), "CTXFD_IOC_INFO"); err != nil {
		return Info{}, err
	}
	return decodeInfo(&raw), nil
}

// klookup returns the value of the nearest binding of key, with found
// false if there is none and isNil true for a nil binding.
//
// The kernel says which in result_flags; a kernel that predates the
// flags leaves them zero, and binds the empty string only as nil there,
// so a found empty value without CTXFD_LOOKUP_VALUE is nil.
func klookup(fd int, key string) (val string, found, isNil bool, err error) {
	kb, kaddr := cbuf(key)
	size := 64
	for {
		vb := make([]byte, size)
		args := ctxfdLookup{
			Key:      kaddr,
			KeyLen:   uint32(len(key)),
			Value:    uint64(uintptr(unsafe.Pointer(&vb[0]))),
			ValueLen: uint32(size),
		}
		_, err := ioctl(fd, iocLookup, unsafe.Pointer(&args), "CTXFD_IOC_LOOKUP")
		runtime.KeepAlive(kb)
		runtime.KeepAlive(vb)
		switch {
		case errors.Is(err, unix.ENOENT):
			return "", false, false, nil
		case errors.Is(err, unix.ERANGE) && int(args.ValueLen) > size:
			size = int(args.ValueLen)
			continue
		case err != nil:
			return "", false, false, err
		case args.ResultFlags&lookupNil != 0:
			return "", true, true, nil
		case args.ValueLen == 0 && args.ResultFlags&lookupValue == 0:
			return "", true, true, nil
		}
		return string(vb[:args.ValueLen]), true, false, nil
	}
}

// kattach is CTXFD_IOC_ATTACH: signal pid (and its tree, by flags) when the
// context is done. The pidfd pins the process: a child not waited for yet
// (even a zombie) cannot have its pid reused meanwhile.
func kattach(fd, pid int, sig syscall.Signal, graceNs int64, flags uint64) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return &OpError{Op: fmt.Sprintf("pidfd_open(%d)", pid), Err: err}
	}
	defer unix.Close(pidfd)
	args := ctxfdAttach{Flags: flags, Pidfd: int32(pidfd), Signal: uint32(sig), GraceNs: uint64(graceNs), Pid: int32(pid)}
	_, err = ioctl(fd, iocAttach, unsafe.Pointer(&args), fmt.Sprintf("CTXFD_IOC_ATTACH (pid %d)", pid))
	return err
}

// nowOn is the current time on clockid, in nanoseconds.
func nowOn(clockid int32) int64 {
	var ts unix.Timespec
	if unix.ClockGettime(clockid, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
