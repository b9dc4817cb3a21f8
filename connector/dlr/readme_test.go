package dlr

import (
	"encoding/hex"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smpp-connector/smpp-connector/connector/segment"
)

// The README lists every receipt style the parser accepts: each example
// must parse to the status, finality and id written on its fence, so the
// page cannot drift from the code.
func TestReadmeExamples(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```receipt ([^\n]*)\n(.*?)^```").FindAllSubmatch(md, -1)
	if len(blocks) < 20 {
		t.Fatalf("%d receipt examples in README.md, want at least 20", len(blocks))
	}
	for _, b := range blocks {
		info, body := string(b[1]), strings.TrimSuffix(string(b[2]), "\n")
		t.Run(info, func(t *testing.T) {
			in, want := readmeInput(t, info, body)
			r, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, body)
			}
			if string(r.Status) != want["status"] || strconv.FormatBool(r.Final) != want["final"] || r.ID != want["id"] {
				t.Errorf("got status=%s final=%v id=%s (stat %q, conflict %q, note %q)\n%s",
					r.Status, r.Final, r.ID, r.Stat, r.Conflict, r.DecodeNote, body)
			}
			// The README promises: every example with an id in its text
			// is recognised without its esm_class, but those marked
			// looks=false, which must not be.
			if want["looks"] == "false" {
				if in.LooksLikeReceipt() {
					t.Errorf("LooksLikeReceipt is true for an example marked looks=false\n%s", body)
				}
			} else if strings.Contains(strings.ToLower(body), "id:") && !in.LooksLikeReceipt() {
				t.Errorf("LooksLikeReceipt is false for\n%s", body)
			}
		})
	}
}

// readmeInput builds the Input an example's fence describes (the options
// are documented at the top of the README) and returns its claims.
func readmeInput(t *testing.T, info, body string) (Input, map[string]string) {
	t.Helper()
	opts := map[string]string{"esm": "0x04", "final": "", "status": "", "id": ""}
	for _, f := range strings.Fields(info) {
		k, v, _ := strings.Cut(f, "=")
		opts[k] = v
	}
	for _, k := range []string{"status", "final", "id"} {
		if opts[k] == "" {
			t.Fatalf("example without %s=", k)
		}
	}
	esm, err := strconv.ParseUint(opts["esm"], 0, 8)
	if err != nil {
		t.Fatalf("esm: %v", err)
	}
	in := Input{EsmClass: byte(esm), DataCoding0: opts["alphabet"], TLVs: map[uint16][]byte{}}
	octets := []byte(body)
	switch enc := opts["encode"]; enc {
	case "":
	case "ucs2", "ucs2-bom", "latin1", "gsm7":
		dc, o, err := segment.Encode(body, strings.TrimSuffix(enc, "-bom"))
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if enc == "ucs2-bom" {
			o = append([]byte{0xFE, 0xFF}, o...)
		}
		in.DataCoding, octets = dc, o
	default:
		t.Fatalf("encode=%s unknown", enc)
	}
	if v, ok := opts["dc"]; ok {
		dc, err := strconv.ParseUint(v, 0, 8)
		if err != nil {
			t.Fatalf("dc: %v", err)
		}
		in.DataCoding = byte(dc)
	}
	if _, ok := opts["payload"]; ok {
		in.TLVs[TagMessagePayload] = octets
	} else {
		in.ShortMessage = octets
	}
	if v, ok := opts["tlv.id"]; ok {
		in.TLVs[TagReceiptedMessageID] = append([]byte(v), 0)
	}
	if v, ok := opts["tlv.state"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("tlv.state: %v", err)
		}
		in.TLVs[TagMessageState] = []byte{byte(n)}
	}
	if v, ok := opts["tlv.nec"]; ok {
		b, err := hex.DecodeString(v)
		if err != nil {
			t.Fatalf("tlv.nec: %v", err)
		}
		in.TLVs[TagNetworkErrorCode] = b
	}
	return in, opts
}
