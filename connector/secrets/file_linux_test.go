package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/smpp-connector/smpp-connector/internal/testutil"
)

// TestFileGetRidesOutAPartialWrite: a Get that catches a file half-written
// tries again and returns the complete credential. The complete file is
// written only once Get has read the partial one (inotify reports the read
// file closed): a pause instead would let a slow Get read only the complete
// file, and the test pass without a retry. (Linux only, for inotify.)
func TestFileGetRidesOutAPartialWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cred")
	writeFile(t, p, `{"system_id":"acme","pass`)
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	events := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends a Read
	defer events.Close()
	if _, err := unix.InotifyAddWatch(fd, p, unix.IN_CLOSE_NOWRITE); err != nil {
		t.Fatalf("inotify watch: %v", err)
	}
	wrote := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		if _, err := events.Read(buf); err != nil { // Get has read the partial file
			wrote <- err
			return
		}
		wrote <- os.WriteFile(p, []byte(`{"system_id":"acme","password":"s3cret"}`), 0o600)
	}()
	c, err := (&File{Paths: map[string]string{"mno-a": p}}).Get(context.Background(), "mno-a")
	if err != nil || c.Password != "s3cret" {
		t.Fatalf("got %v %v", c, err)
	}
	if err := <-wrote; err != nil && !errors.Is(err, os.ErrClosed) {
		t.Fatal(err)
	}
}

// countReads counts the times a file named name in dir is read (opened
// read-only and closed: inotify's IN_CLOSE_NOWRITE), until the test ends.
func countReads(t *testing.T, dir, name string) *atomic.Int64 {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	events := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends a Read
	t.Cleanup(func() { events.Close() })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_NOWRITE); err != nil {
		t.Fatalf("inotify watch: %v", err)
	}
	var n atomic.Int64
	go func() {
		buf := make([]byte, 64*1024)
		for {
			k, err := events.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= k; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				got := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
				if got == name {
					n.Add(1)
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	return &n
}

// future sets p's mtime ahead by d: a file modified "later" than it was read
// is racy, and the watch reads it again at every poll.
func future(t *testing.T, p string, d time.Duration) {
	t.Helper()
	at := time.Now().Add(d)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// warning waits until the file watch has warned once more than warned
// times that the file is unusable (it does at the third failed poll in a
// row), failing at once on anything sent.
func warning(t *testing.T, ch <-chan Credential, logs *testutil.LogBuffer, warned int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		noneSent(t, ch)
		if strings.Count(logs.String(), "credential file unusable") == warned {
			return errors.New("no new warning that the file is unusable")
		}
		return nil
	})
}

// polledFile is the barrier before asserting that a file watch sent
// nothing: it waits for two reads of the file since the call (so one poll
// began and finished after it, including any send: the watch polls and
// sends in one goroutine, on an unbuffered channel), failing at once on
// anything sent. A pause instead passes when the watch had not polled yet.
func polledFile(t *testing.T, ch <-chan Credential, reads *atomic.Int64) {
	t.Helper()
	base := reads.Load()
	testutil.WaitFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		noneSent(t, ch)
		if n := reads.Load() - base; n < 2 {
			return fmt.Errorf("the watch read the file %d times", n)
		}
		return nil
	})
}

func TestFileWatch(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cred")
	writeFile(t, p, "system_id=acme\npassword=old\n")
	// A future mtime keeps the file "racy": the watch reads it at every
	// poll, and the reads are the barrier of the checks that nothing was
	// sent (see polledFile).
	future(t, p, time.Hour)
	reads := countReads(t, filepath.Dir(p), "cred")
	var logs testutil.LogBuffer
	f := &File{Paths: map[string]string{"mno-a": p}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const every = 20 * time.Millisecond
	ch := f.Watch(ctx, "mno-a", every)
	first, err := f.Get(ctx, "mno-a")
	if err != nil {
		t.Fatal(err)
	}
	polledFile(t, ch, reads) // the baseline is not sent

	// Touched, same content: no new version.
	future(t, p, 2*time.Hour)
	polledFile(t, ch, reads)

	// Rotated: sent once.
	writeFile(t, p, "system_id=acme\npassword=new\n")
	future(t, p, 3*time.Hour)
	c := next(t, ch, time.Second)
	if c.Password != "new" || c.Version == first.Version || c.Version == "" {
		t.Fatalf("rotation: %#v (password %q), first %s", c, c.Password, first.Version)
	}
	polledFile(t, ch, reads)

	// Caught half-written: nothing sent, then the complete file is.
	// The barrier: the warning of the third failed poll in a row.
	warned := strings.Count(logs.String(), "credential file unusable")
	writeFile(t, p, `{"system_id":"acme","passw`)
	warning(t, ch, &logs, warned)
	writeFile(t, p, `{"system_id":"acme","password":"newer"}`)
	if c := next(t, ch, time.Second); c.Password != "newer" {
		t.Fatalf("after partial write: %q", c.Password)
	}
	if !strings.Contains(logs.String(), "credential file unusable") || strings.Contains(logs.String(), "newer") {
		t.Errorf("logs:\n%s", logs.String())
	}

	// Rewritten with the same size and mtime (coarse timestamps): still seen.
	st, _ := os.Stat(p)
	writeFile(t, p, `{"system_id":"acme","password":"newes"}`)
	os.Chtimes(p, st.ModTime(), st.ModTime())
	if c := next(t, ch, time.Second); c.Password != "newes" {
		t.Fatalf("same size and mtime: %q", c.Password)
	}

	// Deleted: nothing sent; back again with new content: sent. A missing
	// file is not read: the barrier is the third failed poll's warning.
	warned = strings.Count(logs.String(), "credential file unusable")
	os.Remove(p)
	warning(t, ch, &logs, warned)
	writeFile(t, p, "system_id=acme\npassword=back\n")
	if c := next(t, ch, time.Second); c.Password != "back" {
		t.Fatalf("after delete: %q", c.Password)
	}

	cancel()
	closed(t, ch)
}

// TestFileWatchKubernetesSymlinkSwap rotates the way the kubelet (Secret
// volumes) and the CSI driver do: the file is a symlink into "..data", a
// symlink to a timestamped directory that is swapped atomically.
func TestFileWatchKubernetesSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mkdata := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name, "mno-a"), content)
	}
	swap := func(name string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	mkdata("..2026_04_01_00_00_00.1", "system_id=acme\npassword=v1\n")
	swap("..2026_04_01_00_00_00.1")
	if err := os.Symlink("..data/mno-a", filepath.Join(dir, "mno-a")); err != nil {
		t.Fatal(err)
	}
	f := &File{Paths: map[string]string{"mno-a": filepath.Join(dir, "mno-a")}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := f.Watch(ctx, "mno-a", 20*time.Millisecond)
	if c, err := f.Get(ctx, "mno-a"); err != nil || c.Password != "v1" {
		t.Fatalf("%v %v", c, err)
	}
	// Same size, and the new directory's file may carry any mtime.
	mkdata("..2026_04_02_00_00_00.2", "system_id=acme\npassword=v2\n")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "..2026_04_02_00_00_00.2", "mno-a"), old, old)
	swap("..2026_04_02_00_00_00.2")
	os.RemoveAll(filepath.Join(dir, "..2026_04_01_00_00_00.1"))
	if c := next(t, ch, time.Second); c.Password != "v2" {
		t.Fatalf("after swap: %q", c.Password)
	}
	// Sent once: made racy (as in TestFileWatch) so that polls read it.
	reads := countReads(t, filepath.Join(dir, "..2026_04_02_00_00_00.2"), "mno-a")
	future(t, filepath.Join(dir, "..2026_04_02_00_00_00.2", "mno-a"), time.Hour)
	polledFile(t, ch, reads)
}
