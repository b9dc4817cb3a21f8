package dlr

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzAlphabets are the data_coding 0 alphabets FuzzParse picks from; the
// last is one the decoder does not know.
var fuzzAlphabets = []string{"", "gsm7", "latin1", "ascii", "ebcdic"}

// receiptStyles are the fuzz seeds: every style the README lists and the
// deviations the tests cover.
var receiptStyles = []string{
	"id:1234567 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world",
	"Id:12D687 Sub:001 Dlvrd:000 Submit date:240115123005 Done date:2401151231 Stat:UNDELIV Err:001 Text:Hello",
	"id:abc stat:ACCEPTD err:000",
	"  id: 1 sub : 001 submit  date: 2401151230 stat :  delivrd\terr: text:  a:b:c",
	"id: stat: err:",
	"submit date:20240115123005 done_date:9999999999",
	"",
	"id:1526758174 submit date:1701240904 done date:1701240904 stat:DELIVRD err:000 text:hellow",
	"id:1298d520-b783-49d9-87af-643d7bf13304 submit date:2411051159 done date:2411051159 stat:DELIVRD err:00",
	"id:rdwjwxns18krxr9936ey96ymcw sub:000 dlvrd:000 submit date:180711070003912+ done date:180711070000012+ stat:UNDELIV err:000",
	"id:123 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x",
	"id:77 sub:001 dlvrd:000 submit date:2412011200 done date:2412011200 stat:BUFFRED err:000 text:",
	"id:7 stat:ACKED err:null text:H\x1belloworld",
	"id: 5 stat: ok",
	"paid:5 stat:pending err:0",
	// Fields after text:, a bare status in prose, and MO texts that only
	// look like receipts to a loose reader.
	"id:1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD text:hello err:000",
	"id:1 stat:DELIVRD err:000 text:see you at 10:30 sub:001 dlvrd:001 done date:2501011201",
	"id:1 stat:DELIVRD text:my id:99 err:000",
	"id:123 I was DELIVRD late",
	"DELIVRD",
	"id:123 stat:ok see you",
	"Submit date: tomorrow, done: yes",
	"Your id: 5 is DELIVERED err: 0",
	"id:5, stat:DELIVRD err:000",
	"id:5 stat:BUFFERED err:000",
	// From the review of the shape rule: dates with a time after them,
	// ids of any printable characters, fields after text: that are the
	// subscriber's, a word beside a marked receipt's fields.
	"id:1 sub:001 dlvrd:001 submit date:24/12/01 12:00 done date:24/12/01 12:01 stat:DELIVRD err:000 text:x",
	"id:1 sub:001 dlvrd:001 submit date:2024-12-01 12:00:00 done date:2024-12-01 12:01:00 stat:DELIVRD err:000 text:x",
	"id:abc+def/1 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:x",
	"id:msg:42 stat:DELIVRD done date:01/12/2024 12:01 err:000",
	"id:1 text:Your parcel stat:UNDELIV err:1",
	"id:1 DELIVRD err:000 sub:001 Delivered text:x",
	"id:5 stat:DELIVRD 12:00 err:000",
}

func FuzzParse(f *testing.F) {
	for i, s := range receiptStyles {
		for _, dc := range []byte{0, 3, 8} {
			sm := []byte(s)
			if dc == 8 {
				sm = ucs2(s)
			}
			f.Add(byte(0x04), dc, byte(i), sm, []byte("1234567\x00"), i%2 == 0, []byte{byte(i % 10)}, []byte{3, 0, byte(i)}, []byte(nil))
		}
		f.Add(byte(0x00), byte(8), byte(0), []byte(nil), []byte(nil), false, []byte(nil), []byte("034"), ucs2(s))
	}
	f.Fuzz(func(t *testing.T, esm, dc, alphabet byte, sm, tlvID []byte, withID bool, state, nec, payload []byte) {
		m := map[uint16][]byte{}
		if withID {
			m[TagReceiptedMessageID] = tlvID
		}
		if len(state) > 0 {
			m[TagMessageState] = state
		}
		if len(nec) > 0 {
			m[TagNetworkErrorCode] = nec
		}
		if len(payload) > 0 {
			m[TagMessagePayload] = payload
		}
		dc0 := fuzzAlphabets[int(alphabet)%len(fuzzAlphabets)]
		in := Input{EsmClass: esm, DataCoding: dc, DataCoding0: dc0, ShortMessage: sm, TLVs: m}
		looks := in.LooksLikeReceipt()
		r, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrNoID) {
				t.Fatalf("error %v does not wrap ErrNoID", err)
			}
			if looks {
				t.Fatalf("LooksLikeReceipt but Parse fails: %v", err)
			}
			return
		}
		if r.ID == "" {
			t.Fatal("no error but empty ID")
		}
		if !r.Status.Valid() {
			t.Fatalf("status %q is not a normalised status", r.Status)
		}
		if r.Final && (!r.Status.Final() || esm&esmTypeMask == EsmIntermediateNote) {
			t.Fatalf("final receipt with status %s, esm_class %#x", r.Status, esm)
		}
		if r.Source != SourceTLV && r.Source != SourceText && r.Source != SourceBoth {
			t.Fatalf("source %q", r.Source)
		}
		if strings.ContainsAny(r.Stat, "abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("stat %q is not upper-cased", r.Stat)
		}
		if r.BareStat {
			if _, ok := statWord(r.Stat); !ok {
				t.Fatalf("bare stat %q is not a status word", r.Stat)
			}
		}
		if r.HasMessageState != (len(state) > 0) {
			t.Fatalf("HasMessageState %v with state %x", r.HasMessageState, state)
		}
		if (!r.Submitted.IsZero() && r.Submitted.Location() != time.UTC) || (!r.Done.IsZero() && r.Done.Location() != time.UTC) {
			t.Fatal("dates not in UTC")
		}
		if r.Sub < 0 || r.Dlvrd < 0 {
			t.Fatalf("negative counts %d %d", r.Sub, r.Dlvrd)
		}
		// Text decoded as its data_coding says is UTF-8.
		decodable := dc == 1 || dc == 3 || dc == 8 || dc == 0 && dc0 != "ebcdic"
		if r.DecodeNote == "" && decodable && !utf8.ValidString(r.Text) {
			t.Fatalf("text %q decoded without a note is not UTF-8", r.Text)
		}
	})
}

// What FuzzLooksLikeReceipt holds a receipt's id, err and counts to,
// written apart from the parser.
var (
	fuzzID    = regexp.MustCompile(`^[\p{L}\p{M}\p{N}\p{P}\p{S}]{1,64}$`) // and UTF-8, of at most 64 octets
	fuzzErr   = regexp.MustCompile(`^[0-9]{1,5}$`)
	fuzzCount = regexp.MustCompile(`(?i)(^|\s)(sub|dlvrd|dlvr)[ \t]*:[ \t]*[0-9]{1,3}(\s|$)`)
)

func FuzzLooksLikeReceipt(f *testing.F) {
	for _, s := range receiptStyles {
		f.Add(s)
	}
	for _, s := range []string{"id:5 stat:DELIVRD", "order id:123 was DELIVERED", "id:5 err:0 delivered", "hi text:id:5 stat:DELIVRD err:000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		// Whatever follows text: is the subscriber's: it never gives the
		// receipt its id or its stat.
		if r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte("id:1 text:" + text)}); err != nil || r.ID != "1" || r.Stat != "" {
			t.Fatalf("Parse(%q): id %q stat %q (%v)", "id:1 text:"+text, r.ID, r.Stat, err)
		}
		// Prose before a receipt makes it none.
		if LooksLikeReceipt("Thanks. " + text) {
			t.Fatalf("LooksLikeReceipt(%q) with prose before it", "Thanks. "+text)
		}
		// Prose after one too, when there is no text: for it to be part
		// of (nor a key at the end that would take it for its value).
		if !strings.Contains(strings.ToLower(text), "text") && !strings.HasSuffix(strings.TrimRight(text, " \t\r\n\v\f\x00"), ":") &&
			LooksLikeReceipt(text+" thanks.") {
			t.Fatalf("LooksLikeReceipt(%q) with prose after it", text+" thanks.")
		}
		if !LooksLikeReceipt(text) {
			return
		}
		r, err := Parse(Input{ShortMessage: []byte(text)})
		if err != nil {
			t.Fatalf("LooksLikeReceipt(%q) but Parse: %v", text, err)
		}
		if r.ID == "" || r.Stat == "" {
			t.Fatalf("LooksLikeReceipt(%q) but id %q stat %q", text, r.ID, r.Stat)
		}
		if _, ok := statWord(r.Stat); !ok {
			t.Fatalf("LooksLikeReceipt(%q) with stat %q that is no status word", text, r.Stat)
		}
		// Checked apart from the parser: the id is one, and some other
		// field has a well-formed value.
		if !fuzzID.MatchString(r.ID) || !utf8.ValidString(r.ID) || len(r.ID) > 64 {
			t.Fatalf("LooksLikeReceipt(%q) with id %q", text, r.ID)
		}
		if !fuzzErr.MatchString(r.Err) && r.Submitted.IsZero() && r.Done.IsZero() && !fuzzCount.MatchString(text) {
			t.Fatalf("LooksLikeReceipt(%q) without a well-formed sub:, dlvrd:, date or err: (err %q)", text, r.Err)
		}
	})
}
