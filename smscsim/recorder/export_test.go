package recorder

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestJSONLRoundTrip(t *testing.T) {
	recs := []Record{
		{Seq: 1, Time: time.Unix(10, 0).UTC(), Operator: "op", Account: "shop", Command: "bind_transceiver", Status: "ESME_ROK"},
		{Seq: 2, Time: time.Unix(11, 0).UTC(), Operator: "op", Command: "submit_sm", Status: "ESME_RTHROTTLED", Text: "hi\nthere"},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, recs); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines, want 2:\n%s", n, buf.String())
	}
	got, err := ReadJSONL(strings.NewReader(buf.String() + "\n"))
	if err != nil || len(got) != 2 || got[1].Text != "hi\nthere" || got[0].Account != "shop" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := ReadJSONL(strings.NewReader("{\"seq\":1}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}
