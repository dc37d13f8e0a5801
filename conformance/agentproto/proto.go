// Package agentproto is the wire protocol between the suite
// (conformance/containers) and the agent that is PID 1 of every pooled
// host container (conformance/cmd/agent). It replaces one `docker exec`
// per program (100-300 ms of engine work each) with a request on a Unix
// socket (well under a millisecond).
//
// The agent listens on SocketDir/SocketName, a small tmpfs of the host
// container that nothing else uses; the suite reaches it from the Docker
// host through /proc/<agent's pid>/root. One connection carries one
// request, a single JSON line of at most MaxRequest bytes:
//
//	{"op":"ping"}                                 -> reply {id, pid, uid}
//	{"op":"reset","dirs":["/tmp","/out"]}         -> reply {} or {error}
//	{"op":"exec","argv":[...],"dir":"/out","env":["K=V"]}
//	                                              -> reply {pid} or {error},
//	                                                 then output and exit frames
//
// and, only on the connection of an exec, any number of further lines
// {"op":"signal","sig":15} that signal that program. Closing a connection
// never stops anything: a program runs until it exits, is signalled, or a
// reset stops every program of the host.
//
// The agent answers in frames: one type byte, a big-endian uint32 length,
// then that many bytes (at most MaxFrame). Binary frames keep a program's
// output byte for byte without escaping it.
//
// A program in the same container may connect too (it runs as the same
// user). That gives it nothing it does not have already: it can start and
// signal processes as itself, and reset may only empty the folders the
// agent was started with.
package agentproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"syscall"
)

// Where the agent listens, inside the host container.
const (
	SocketDir  = "/.interop-ctl"
	SocketName = "agent.sock"
)

// Bounds on what either side accepts.
const (
	MaxRequest = 64 << 10 // one request line, newline included
	MaxFrame   = 64 << 10 // one frame's payload
	MaxArgs    = 512
	MaxEnv     = 256
	MaxDirs    = 16
)

// Operations.
const (
	OpPing   = "ping"
	OpExec   = "exec"
	OpSignal = "signal"
	OpReset  = "reset"
)

// Request is one line from the suite (or from anyone who connects).
type Request struct {
	Op   string   `json:"op"`
	Argv []string `json:"argv,omitempty"` // exec: argv[0] is looked up in PATH when it has no '/'
	Dir  string   `json:"dir,omitempty"`  // exec: working directory (default /)
	Env  []string `json:"env,omitempty"`  // exec: K=V added to the agent's environment
	Sig  int      `json:"sig,omitempty"`  // signal
	Dirs []string `json:"dirs,omitempty"` // reset: folders to empty (none: only stop programs)
}

// Frame types, agent to suite.
const (
	FrameReply  = 'r' // JSON Reply: the answer to the request
	FrameStdout = 'o' // a chunk of the program's stdout
	FrameStderr = 'e' // a chunk of its stderr
	FrameExit   = 'x' // JSON ExitStatus: the program ended (output may still follow)
)

// Reply answers a request. Error set means the request did nothing.
type Reply struct {
	Error string `json:"error,omitempty"`
	ID    string `json:"id,omitempty"`  // ping: the id the agent was started with
	PID   int    `json:"pid,omitempty"` // ping: the agent's pid (1); exec: the program's, in the container
	UID   int    `json:"uid,omitempty"` // ping: the uid programs run as
}

// ExitStatus is how a program ended. Code follows the shell's and the
// Docker Engine's convention: 128+signal for a program killed by a signal.
type ExitStatus struct {
	Code   int `json:"code"`
	Signal int `json:"signal,omitempty"`
}

// Signals a client may send: the ones the suite uses to stop a program.
var allowedSignals = map[int]bool{int(syscall.SIGTERM): true, int(syscall.SIGKILL): true, int(syscall.SIGINT): true}

// ErrTooLong is returned for a request line longer than MaxRequest.
var ErrTooLong = errors.New("request longer than the limit")

// ReadRequest reads one request line, never buffering more than
// MaxRequest bytes whatever the peer sends.
func ReadRequest(r *bufio.Reader) (Request, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxRequest {
			return Request{}, ErrTooLong
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			return Request{}, io.ErrUnexpectedEOF
		}
		return Request{}, err
	}
	return ParseRequest(line)
}

// ParseRequest decodes and checks one request line.
func ParseRequest(line []byte) (Request, error) {
	if len(line) > MaxRequest {
		return Request{}, ErrTooLong
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var q Request
	if err := dec.Decode(&q); err != nil {
		return Request{}, fmt.Errorf("bad request: %w", err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return Request{}, errors.New("bad request: text after the JSON object")
	}
	return q, q.Check()
}

// Check validates a request's fields for its operation.
func (q Request) Check() error {
	noNUL := func(what, s string) error {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%s contains a NUL byte", what)
		}
		return nil
	}
	switch q.Op {
	case OpPing:
	case OpExec:
		if len(q.Argv) == 0 || q.Argv[0] == "" {
			return errors.New("exec: empty argv")
		}
		if len(q.Argv) > MaxArgs || len(q.Env) > MaxEnv {
			return errors.New("exec: too many arguments or variables")
		}
		for _, a := range q.Argv {
			if err := noNUL("argument", a); err != nil {
				return err
			}
		}
		for _, kv := range q.Env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return fmt.Errorf("exec: environment entry %q is not K=V", truncate(kv))
			}
			if err := noNUL("environment entry", kv); err != nil {
				return err
			}
		}
		if q.Dir != "" && !path.IsAbs(q.Dir) {
			return fmt.Errorf("exec: working directory %q is not absolute", truncate(q.Dir))
		}
		if err := noNUL("working directory", q.Dir); err != nil {
			return err
		}
	case OpSignal:
		if !allowedSignals[q.Sig] {
			return fmt.Errorf("signal: %d is not one of TERM, KILL, INT", q.Sig)
		}
	case OpReset:
		if len(q.Dirs) > MaxDirs {
			return errors.New("reset: too many folders")
		}
		for _, d := range q.Dirs {
			if !path.IsAbs(d) || path.Clean(d) != d || d == "/" {
				return fmt.Errorf("reset: folder %q is not a clean absolute path", truncate(d))
			}
		}
	default:
		return fmt.Errorf("unknown op %q", truncate(q.Op))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Marshal encodes the request as one line.
func (q Request) Marshal() []byte {
	b, _ := json.Marshal(q)
	return append(b, '\n')
}

// WriteFrame writes one frame; p longer than MaxFrame is an error.
func WriteFrame(w io.Writer, typ byte, p []byte) error {
	if len(p) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(p), MaxFrame)
	}
	buf := make([]byte, 5+len(p))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(p)))
	copy(buf[5:], p)
	_, err := w.Write(buf)
	return err
}

// WriteJSON writes v as the payload of one frame.
func WriteJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFrame(w, typ, b)
}

// ReadFrame reads one frame into buf (grown up to MaxFrame) and returns
// its type and payload, which is valid until the next call.
func ReadFrame(r io.Reader, buf *[]byte) (typ byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes exceeds %d", n, MaxFrame)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	p := (*buf)[:n]
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], p, nil
}
