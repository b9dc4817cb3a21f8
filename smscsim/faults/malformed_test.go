package faults

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

// Response ids as unsigned, the way they are on the wire.
var (
	submitResp = uint32(int64(data.SUBMIT_SM_RESP) & 0xFFFFFFFF)
	enqResp    = uint32(int64(data.ENQUIRE_LINK_RESP) & 0xFFFFFFFF)
)

func TestMalformed(t *testing.T) {
	const seq = 0x01020304
	be := binary.BigEndian
	tests := []struct {
		kind  string
		check func(b []byte) string // "" when fine
	}{
		{"bad_length", func(b []byte) string {
			if len(b) != 16 || be.Uint32(b) != 10 || be.Uint32(b[4:]) != submitResp || be.Uint32(b[12:]) != seq {
				return "want a 16-byte submit_sm_resp header with command_length 10 and the sequence"
			}
			return ""
		}},
		{"truncated", func(b []byte) string {
			if len(b) != 20 || be.Uint32(b) != 40 || be.Uint32(b[4:]) != submitResp || be.Uint32(b[12:]) != seq {
				return "want 20 bytes of a submit_sm_resp claiming 40"
			}
			return ""
		}},
		{"garbage", func(b []byte) string {
			if len(b) != 32 || bytes.Equal(b, make([]byte, 32)) {
				return "want 32 random bytes"
			}
			return ""
		}},
		{"bad_command_id", func(b []byte) string {
			if len(b) != 16 || be.Uint32(b) != 16 || be.Uint32(b[4:]) != 0x80000666 || be.Uint32(b[12:]) != seq {
				return "want a 16-byte PDU with command_id 0x80000666"
			}
			return ""
		}},
		{"huge_length", func(b []byte) string {
			if len(b) != 16 || be.Uint32(b) != 0x7FFFFFFF || be.Uint32(b[12:]) != seq {
				return "want a header claiming 0x7FFFFFFF bytes"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		r := NewRegistry(1, nil)
		add(t, r, spec("malformed", `{"kind":"`+tc.kind+`"}`))
		act := request(r, Event{Command: data.SUBMIT_SM, Sequence: seq})
		if msg := tc.check(act.Raw); msg != "" {
			t.Errorf("%s: %s, got % x", tc.kind, msg, act.Raw)
		}
	}
}

// The response command_id follows the request: enquire_link gets enquire_link_resp.
func TestMalformedFollowsCommand(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, spec("malformed", `{"kind":"huge_length"}`))
	act := request(r, Event{Command: data.ENQUIRE_LINK, Sequence: 9})
	if got := binary.BigEndian.Uint32(act.Raw[4:]); got != enqResp {
		t.Fatalf("command_id 0x%08x", got)
	}
}
