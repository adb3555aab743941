package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Printer writes progress for people: permanent event lines, and a status
// line that is rewritten in place on a terminal or, when the output is not a
// terminal (CI, a log file), printed as a plain line at most every
// DefaultPlainEvery; the status lines in between are left out (the next
// one says everything they said).
type Printer struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	plain *rate.Limiter // paces plain status lines, by now's clock

	mu        sync.Mutex
	statusLen int // visible length of the status line on screen (tty)
}

// DefaultPlainEvery is how often a status line is printed when the output is
// not a terminal.
const DefaultPlainEvery = 10 * time.Second

// NewPrinter returns a Printer on w. Whether w is a terminal is detected
// from the file mode when w is an *os.File.
func NewPrinter(w io.Writer) *Printer {
	return &Printer{w: w, tty: IsTerminal(w), now: time.Now, plain: rate.NewLimiter(rate.Every(DefaultPlainEvery), 1)}
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Eventf prints a permanent line (clearing the status line first on a
// terminal).
func (p *Printer) Eventf(format string, a ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintf(p.w, format+"\n", a...)
}

// Status shows a transient status line.
func (p *Printer) Status(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.clearLocked()
		fmt.Fprint(p.w, s)
		p.statusLen = len([]rune(s))
		return
	}
	if p.plain.AllowN(p.now(), 1) {
		fmt.Fprintln(p.w, s)
	}
}

// Done clears the status line (terminal) so that later output starts on a
// clean line.
func (p *Printer) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *Printer) clearLocked() {
	if p.tty && p.statusLen > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.statusLen)+"\r")
		p.statusLen = 0
	}
}

// FormatDuration renders d compactly for progress lines: 42s, 3m07s, 1h02m.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
