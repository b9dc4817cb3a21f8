package load

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// A receipt and its submit_sm_resp read at the same moment on two binds
// match exactly once, whichever wins: the receipt is held until the resp
// comes or finds the resp's record, never neither. Ids are decimal, as many
// SMSCs give them, so each receipt also tries its hex and decimal readings.
func TestTrackerReceiptRacesResp(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two threads to race")
	}
	tr := newTracker()
	// A link that has run a while: its ids are known to read alike in
	// resps and receipts.
	for i := 1; i <= 100; i++ {
		id := []byte(strconv.Itoa(i))
		tr.submitted(id, 1)
		if _, ok := tr.receipt(id, 2); !ok {
			t.Fatalf("warm-up receipt %d not matched", i)
		}
	}
	const n = 20000
	var matched sync.WaitGroup
	var mu sync.Mutex
	count := 0
	hit := func() { mu.Lock(); count++; mu.Unlock() }
	for i := 1; i <= n; i++ {
		id := []byte(strconv.Itoa(100 + i))
		start := make(chan struct{})
		matched.Add(2)
		go func() {
			defer matched.Done()
			<-start
			if _, ok := tr.receipt(id, 2); ok {
				hit()
			}
		}()
		go func() {
			defer matched.Done()
			<-start
			if _, ok := tr.submitted(id, 1); ok {
				hit()
			}
		}()
		close(start)
		if i%64 == 0 {
			matched.Wait()
		}
	}
	matched.Wait()
	if count != n {
		t.Fatalf("%d of %d receipts matched", count, n)
	}
}
