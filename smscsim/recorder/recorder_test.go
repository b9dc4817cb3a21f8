package recorder

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRingKeepsNewest(t *testing.T) {
	rc := New(3)
	for i := 0; i < 5; i++ {
		rc.Add(Record{Command: "submit_sm", Dest: fmt.Sprint(i)})
	}
	got := rc.Query(Filter{})
	if len(got) != 3 || got[0].Dest != "2" || got[2].Dest != "4" || got[2].Seq != 5 {
		t.Fatalf("%+v", got)
	}
	c, total, ev := rc.Stats()
	if c != 3 || total != 5 || ev != 2 {
		t.Fatal(c, total, ev)
	}
}

func TestFilter(t *testing.T) {
	rc := New(100)
	t0 := time.Now()
	rc.Add(Record{Time: t0, Operator: "a", Account: "x", Command: "submit_sm", Dest: "4477"})
	rc.Add(Record{Time: t0.Add(time.Second), Operator: "b", Account: "x", Command: "submit_sm", Dest: "3361"})
	rc.Add(Record{Time: t0.Add(2 * time.Second), Operator: "a", Account: "y", Command: "enquire_link"})
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"operator": {Filter{Operator: "a"}, 2},
		"account":  {Filter{Account: "x"}, 2},
		"command":  {Filter{Command: "SUBMIT_SM"}, 2},
		"dest":     {Filter{DestPrefix: "44"}, 1},
		"since":    {Filter{Since: t0.Add(time.Second)}, 2},
		"until":    {Filter{Until: t0.Add(time.Second)}, 1},
		"afterSeq": {Filter{AfterSeq: 2}, 1},
		"limit":    {Filter{Limit: 1}, 1},
	} {
		if got := rc.Query(c.f); len(got) != c.want {
			t.Errorf("%s: %d records, want %d", name, len(got), c.want)
		}
	}
	if got := rc.Query(Filter{Limit: 1}); got[0].Command != "enquire_link" {
		t.Errorf("limit keeps newest: %+v", got)
	}
}

func TestZeroSizeRecordsNothing(t *testing.T) {
	rc := New(0)
	rc.Add(Record{})
	if len(rc.Query(Filter{})) != 0 {
		t.Fatal("recorded with size 0")
	}
}

func TestConcurrentAdd(t *testing.T) {
	rc := New(50)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				rc.Add(Record{})
				_ = rc.Query(Filter{Limit: 5})
			}
		}()
	}
	wg.Wait()
	if _, total, _ := rc.Stats(); total != 4000 {
		t.Fatal(total)
	}
}
