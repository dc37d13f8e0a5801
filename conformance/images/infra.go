package images

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// ErrInfra marks image failures that are the machine's, not an
// implementation's: too little disk, an unreachable engine, a base image
// that could not be bootstrapped (base images are the suite's own). The
// suite turns them into infrastructure errors, never blamed on a student
// (spec/results.md), while a Dockerfile that fails to build is the
// implementation's.
var ErrInfra = errors.New("infrastructure failure")

type infraError struct{ err error }

func (e infraError) Error() string   { return e.err.Error() }
func (e infraError) Unwrap() []error { return []error{e.err, ErrInfra} }

// Infra marks err as the machine's fault.
func Infra(err error) error {
	if err == nil {
		return nil
	}
	return infraError{err}
}

// IsInfra reports whether err is the machine's fault.
func IsInfra(err error) bool { return errors.Is(err, ErrInfra) }

// machineTrouble are build-log texts that mean the machine failed the
// build, whatever the Dockerfile said.
var machineTrouble = []string{
	"no space left on device",
	"Cannot connect to the Docker daemon",
	"input/output error",
}

func isMachineTrouble(texts ...string) bool {
	for _, t := range texts {
		for _, m := range machineTrouble {
			if strings.Contains(t, m) {
				return true
			}
		}
	}
	return false
}

// minFreeBytes is MinFreeBytes unless INTEROP_MIN_FREE_GIB says otherwise
// (a machine with a small disk, or a test of the low-disk path).
func minFreeBytes() uint64 {
	if s := os.Getenv("INTEROP_MIN_FREE_GIB"); s != "" {
		if g, err := strconv.ParseUint(s, 10, 32); err == nil {
			return g << 30
		}
	}
	return MinFreeBytes
}
