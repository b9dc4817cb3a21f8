package session

import (
	"sync"
	"testing"
	"time"
)

// Arrival stamps are strictly increasing in microseconds, even when many
// goroutines take them in the same microsecond.
func TestArrivalIsStrictlyIncreasing(t *testing.T) {
	const goroutines, each = 8, 2000
	stamps := make([][]time.Time, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				stamps[g] = append(stamps[g], Arrival())
			}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, s := range stamps {
		for i, at := range s {
			us := at.UnixMicro()
			if seen[us] {
				t.Fatalf("microsecond %d stamped twice", us)
			}
			seen[us] = true
			if i > 0 && !at.After(s[i-1]) {
				t.Fatalf("stamp %d not after the one before in its goroutine", i)
			}
		}
	}
}
