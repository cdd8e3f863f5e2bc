package sink

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether f is a terminal, to decide on colours and the
// progress bar.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progressInterval throttles redraws to about ten a second: enough to look
// live, cheap enough to call per record.
const progressInterval = 100 * time.Millisecond

// barWidth is the number of cells in the bar itself.
const barWidth = 30

// Progress draws a one-line progress bar (percent of bytes read, events per
// second, elapsed time) and redraws it in place with a carriage return. It is
// safe for concurrent use, so a reader goroutine can update it while another
// calls Done.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	total   int64
	start   time.Time
	last    time.Time
	now     func() time.Time
	lastLen int
	done    bool
}

// NewProgress returns a bar for an input of totalBytes bytes; 0 means the
// size is unknown (stdin), and the bar then shows bytes read without a
// percentage.
func NewProgress(w io.Writer, totalBytes int64) *Progress {
	p := &Progress{w: w, total: totalBytes, now: time.Now}
	p.start = p.now()
	return p
}

// Update reports that bytes of the input have been read and events parsed
// so far. It redraws at most every 100 ms; other calls return at once.
func (p *Progress) Update(bytes, events int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	now := p.now()
	if !p.last.IsZero() && now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	line := renderProgress(bytes, p.total, events, now.Sub(p.start))
	// Pad over the remains of a longer previous line.
	pad := max(p.lastLen-len(line), 0)
	p.lastLen = len(line)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", pad))
}

// Done clears the bar's line so the summary starts on a clean line. Later
// Updates are ignored.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	if p.lastLen > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.lastLen)+"\r")
	}
}

// renderProgress is the bar's text for one state.
func renderProgress(bytes, total, events int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(events) / s
	}
	tail := fmt.Sprintf("%s events  %s ev/s  %s", num(events), num(int64(rate+0.5)), clock(elapsed))
	if total <= 0 {
		return bytesText(bytes) + " read  " + tail
	}
	frac := min(max(float64(bytes)/float64(total), 0), 1)
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	return fmt.Sprintf("[%s] %3d%%  %s/%s  %s", bar, int(frac*100), bytesText(bytes), bytesText(total), tail)
}

// clock prints a duration as m:ss, or h:mm:ss past an hour.
func clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
