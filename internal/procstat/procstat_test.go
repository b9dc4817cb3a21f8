package procstat

import (
	"os"
	"testing"
)

func TestParseCPUCountsFromTheLastParenthesis(t *testing.T) {
	stat := "4242 (smsbox (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0\n"
	got, err := ParseCPU([]byte(stat))
	if err != nil || got != 3 {
		t.Errorf("ParseCPU = %v, %v; want 3 (250+50 ticks)", got, err)
	}
	if _, err := ParseCPU([]byte("4242 (x) S 1")); err == nil {
		t.Error("a short line is accepted")
	}
}

func TestCPUOfThisProcess(t *testing.T) {
	if _, err := CPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := CPU(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
