package progress

import (
	"os"
	"syscall"
	"unsafe"
)

// termWidth asks the terminal for its columns (0 when it will not say), so
// the status line never wraps: a wrapped line cannot be rewritten with \r.
func termWidth(f *os.File) int {
	var ws struct{ Row, Col, X, Y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws)))
	if errno != 0 {
		return 0
	}
	return int(ws.Col)
}
