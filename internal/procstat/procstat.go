// Package procstat reads a process's CPU time from /proc (Linux), for the
// load tools that report CPU per message: the connector benchmark and the
// Kannel comparison read their processes the same way.
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CPU is the user+system CPU seconds process pid has used.
func CPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseCPU(b)
}

// ParseCPU parses /proc/PID/stat: utime and stime are the 14th and 15th
// fields, counted in USER_HZ (100 on Linux); the command name before them may
// hold spaces and parentheses, so fields are counted from the last ')'.
func ParseCPU(stat []byte) (float64, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("no ')' in /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat: %d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / 100, nil
}
