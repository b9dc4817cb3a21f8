package receipt

import (
	"strings"
	"testing"
	"time"
)

// A template derived from a rendered receipt renders the same text again for
// the same values, in every variant the simulator knows, and a different
// text for other values: the placeholders are where the values were.
func TestDeriveTemplateRoundTrip(t *testing.T) {
	sub := time.Date(2024, 12, 1, 12, 0, 5, 0, time.UTC)
	r := Receipt{ID: "4711", Submitted: sub, Done: sub.Add(61 * time.Second), Stat: Delivered, Err: "000", Original: "hello {world} and more text", Dlvr: 1}
	other := Receipt{ID: "9f0a", Submitted: sub.Add(time.Hour), Done: sub.Add(2 * time.Hour), Stat: Undeliverable, Err: "001", Original: "bye"}
	for _, v := range []string{"standard", "seconds", "capitalized", "no_text", "short", "bare"} {
		text := r.Render(v)
		tpl, f := DeriveTemplate(text)
		if err := CheckTemplate(tpl); err != nil {
			t.Fatalf("%s: template %q: %v", v, tpl, err)
		}
		if got := r.RenderTemplate(tpl); got != text {
			t.Errorf("%s: template %q renders\n %q, want\n %q", v, tpl, got, text)
		}
		if got, want := other.RenderTemplate(tpl), other.Render(v); got != want {
			t.Errorf("%s: other values render\n %q, want\n %q", v, got, want)
		}
		if f.ID != "4711" && v != "bare" || f.Stat != Delivered {
			t.Errorf("%s: fields %+v", v, f)
		}
		if strings.Contains(tpl, "4711") || strings.Contains(tpl, "DELIVRD") {
			t.Errorf("%s: template %q still holds a value", v, tpl)
		}
	}
}

// Unknown vendor fields and spellings are kept as they are.
func TestDeriveTemplateKeepsVendorText(t *testing.T) {
	tpl, f := DeriveTemplate("id:ABC123 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:EXPIRED err:027 mccmnc:23410 text:x")
	want := "id:{id} sub:001 dlvrd:{dlvrd} submit date:{submit10} done date:{done10} stat:{stat} err:{err} mccmnc:23410 text:{text}"
	if tpl != want || f.ID != "ABC123" || f.Stat != Expired || f.Err != "027" {
		t.Fatalf("got %q %+v\nwant %q", tpl, f, want)
	}
}

func TestCheckTemplate(t *testing.T) {
	for tpl, ok := range map[string]bool{"id:{id}": true, "{{literal": true, "id:{nope}": false, "stat:{stat": false} {
		if err := CheckTemplate(tpl); (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", tpl, err, ok)
		}
	}
}
