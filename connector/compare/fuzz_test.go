package compare

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The readers never panic, and account for every line: for JSON lines
// each line is a record, skipped or invalid; for CSV no line is counted
// twice, and every error names the file and a line of it.
func FuzzReadLegacy(f *testing.F) {
	f.Add([]byte("message_id,operator,outcome,error_code\nm1,mno-a,accepted,\nm2,mno-b,rejected,0x0b\n"))
	f.Add([]byte("message_id,operator,outcome,error_code\n\"m1\n\",a,ok,\n\nm2,a,\"bad\n"))
	f.Add([]byte(`{"message_id":"m1","operator":"a","outcome":"ok"}` + "\n" + `{"message_id":1}` + "\n\n{"))
	f.Add([]byte("\ufeffmessage_id,operator,outcome,error_code\r\nm1,a,failed,ESME_RSYSERR\r\n"))
	m := DefaultMapping()
	if err := m.validate(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := ReadLegacy("in", bytes.NewReader(in), m)
		lines := bytes.Count(in, []byte("\n"))
		if len(in) > 0 && in[len(in)-1] != '\n' {
			lines++
		}
		if err != nil {
			var le *LineError
			if errors.As(err, &le) && (le.File != "in" || le.Line < 1 || le.Line > lines+1) {
				t.Fatalf("error %v names no line of the input (%d lines)", err, lines)
			}
			return
		}
		checkLog(t, l, lines)
		if firstByte(bufio.NewReader(bytes.NewReader(in))) == '{' {
			accounted(t, l)
		} else if l.Lines != lines {
			t.Fatalf("counted %d lines, input has %d", l.Lines, lines)
		}
	})
}

func FuzzReadConnector(f *testing.F) {
	f.Add([]byte(`{"messageId":"m1","operatorId":"a","partNumber":1,"partCount":2,"outcome":"accepted","smscMessageId":"s"}` + "\n" +
		`{"messageId":"m1","operatorId":"a","partNumber":2,"partCount":2,"outcome":"rejected","commandStatus":69}`))
	f.Add([]byte(`{"kind":"receipt","at":"2026-11-30T10:00:01Z","event":{}}` + "\n" +
		`{"kind":"outcome","at":"2026-11-30T10:00:01Z","event":{"messageId":"m","operatorId":"a","outcome":"unknown"}}`))
	f.Add([]byte(`{"time":"t","level":"INFO","msg":"shadow","event":"{\"kind\":\"mo\"}"}` + "\n" +
		`time=t level=INFO msg=shadow event="{\"kind\":\"outcome\",\"event\":{}}"` + "\nnull\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := ReadConnector("in", bytes.NewReader(in))
		lines := bytes.Count(in, []byte("\n"))
		if len(in) > 0 && in[len(in)-1] != '\n' {
			lines++
		}
		if err != nil {
			if !strings.Contains(err.Error(), "line longer than") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkLog(t, l, lines)
		accounted(t, l)
		for _, r := range l.Records {
			if r.Outcome != Accepted && r.Outcome != Rejected && r.Outcome != Unknown || r.Parts < 1 {
				t.Fatalf("record %+v", r)
			}
		}
	})
}

func checkLog(t *testing.T, l *Log, lines int) {
	t.Helper()
	if l.Lines > lines {
		t.Fatalf("counted %d lines, input has %d", l.Lines, lines)
	}
	for _, e := range l.Invalid {
		if e.File != "in" || e.Line < 1 || e.Line > lines || e.Msg == "" {
			t.Fatalf("invalid line error %+v (of %d lines)", e, lines)
		}
	}
	for _, r := range l.Records {
		if r.MessageID == "" || r.Line < 1 || r.Line > lines || (r.Outcome == Rejected) != (r.Code != "") {
			t.Fatalf("record %+v (of %d lines)", r, lines)
		}
	}
	if n := l.SkippedTotal(); n < 0 || n > lines {
		t.Fatalf("skipped %v of %d lines", l.Skipped, lines)
	}
	if n := l.Events + len(l.Invalid) + l.SkippedTotal(); n > l.Lines {
		t.Fatalf("%d events + %d invalid + %v skipped > %d lines", l.Events, len(l.Invalid), l.Skipped, l.Lines)
	}
	// No line is read twice: a record and an invalid line never share one.
	used := map[int]bool{}
	for _, e := range l.Invalid {
		if used[e.Line] {
			t.Fatalf("line %d is invalid twice", e.Line)
		}
		used[e.Line] = true
	}
	for _, r := range l.Records {
		if used[r.Line] {
			t.Fatalf("line %d read twice (%+v)", r.Line, r)
		}
		used[r.Line] = true
	}
}

// accounted checks that each JSON line is an event, skipped or invalid.
func accounted(t *testing.T, l *Log) {
	t.Helper()
	if l.Events+len(l.Invalid)+l.SkippedTotal() != l.Lines {
		t.Fatalf("%d events + %d invalid + %d skipped != %d lines", l.Events, len(l.Invalid), l.SkippedTotal(), l.Lines)
	}
	if len(l.Records) > l.Events {
		t.Fatalf("%d records of %d events", len(l.Records), l.Events)
	}
}
