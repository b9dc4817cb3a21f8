package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
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
