package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// printer tails the progress file and rewrites one status line.
type printer struct {
	path  string
	out   io.Writer
	now   func() time.Time
	width func() int // terminal columns; 0: unknown

	st      *state
	offset  int64
	partial []byte // a line whose end has not been written yet
}

func newPrinter(path string, total int, out io.Writer, now func() time.Time) *printer {
	return &printer{path: path, out: out, now: now, width: func() int { return 0 }, st: newState(total)}
}

// run prints every interval until stop is called; stop prints the final
// line, ends it with a newline, and waits for the goroutine.
func (p *printer) run(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			p.poll()
			p.print(false)
			select {
			case <-done:
				p.poll()
				p.print(true)
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// poll reads what was appended since the last call.
func (p *printer) poll() {
	f, err := os.Open(p.path)
	if err != nil {
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < p.offset {
		p.offset, p.partial = 0, nil // the file was emptied: a new run
	}
	if _, err := f.Seek(p.offset, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return
	}
	p.offset += int64(len(b))
	b = append(p.partial, b...)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		var ev Event
		if json.Unmarshal(b[:i], &ev) == nil && ev.Cell != "" {
			p.st.apply(ev)
		}
		b = b[i+1:]
	}
	p.partial = append([]byte(nil), b...)
}

// print rewrites the status line: carriage return, the line, clear to
// the end of the terminal line. The final one ends with a newline.
func (p *printer) print(final bool) {
	line := p.st.line(p.now(), p.width())
	end := "\x1b[K"
	if final {
		end += "\n"
	}
	fmt.Fprint(p.out, "\r"+line+end)
}
