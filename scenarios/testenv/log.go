package testenv

import (
	"fmt"
	"io"
	"os"
	"sync"
)

var (
	logMu  sync.Mutex
	logOut io.Writer = os.Stderr
)

// SetLogOutput sends the environment's progress lines (containers started,
// existing secrets or streams used as they are) to w instead of standard
// error: the Ginkgo harness passes GinkgoWriter, so that they show with a
// failing spec, not in every run.
func SetLogOutput(w io.Writer) {
	logMu.Lock()
	defer logMu.Unlock()
	logOut = w
}

// Logf writes one progress line, prefixed "testenv: ".
func Logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(logOut, "testenv: "+format+"\n", args...)
}
