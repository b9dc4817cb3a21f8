package faults

import (
	"encoding/binary"
	"encoding/json"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// malformed replaces the response with broken bytes, to check that a client
// survives a misbehaving SMSC: it must drop the session, not panic or hang.
// Kinds:
//
//   - bad_length:     a 16-byte response header (the request's response
//     command_id, sequence echoed) whose command_length says 10, less than
//     a header: the reader cannot even skip it.
//   - truncated:      a response header claiming 40 bytes followed by only 4
//     body bytes (20 sent): the reader waits for the rest, or reads the next
//     PDU as this one's body.
//   - garbage:        32 random bytes (seeded): no valid header at all.
//   - bad_command_id: a well-formed 16-byte PDU with command_id 0x80000666,
//     a response id SMPP does not define (sequence echoed): should be
//     answered with generic_nack or ignored, not crash.
//   - huge_length:    a response header claiming 0x7FFFFFFF bytes: a reader
//     that allocates command_length bytes blindly runs out of memory.
type malformed struct {
	kind string
}

type malformedParams struct {
	Kind string `json:"kind"`
}

// badCommandID is a response command_id that SMPP 3.4 does not define.
const badCommandID = 0x80000666

var malformedKinds = []string{"bad_length", "truncated", "garbage", "bad_command_id", "huge_length"}

func init() {
	Register(Type{
		Name:        "malformed",
		Description: "replaces the response with broken bytes: bad_length, truncated, garbage, bad_command_id or huge_length",
		New:         newMalformed,
	})
}

func newMalformed(raw json.RawMessage) (Fault, error) {
	var p malformedParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	for _, k := range malformedKinds {
		if p.Kind == k {
			return &malformed{kind: k}, nil
		}
	}
	return nil, paramErr("kind", "must be one of %v, got %q", malformedKinds, p.Kind)
}

// OnRequest sets the raw bytes sent instead of the response.
func (m *malformed) OnRequest(in *Instance, ev *Event, act *Action) {
	resp := uint32(ev.Command) | 0x80000000 // the response id of the request
	var b []byte
	switch m.kind {
	case "bad_length":
		b = header(10, resp, ev.Sequence)
	case "truncated":
		b = append(header(40, resp, ev.Sequence), '1', '2', '3', '4') // 20 of 40 bytes
	case "garbage":
		b = make([]byte, 32)
		for i := range b {
			b[i] = byte(in.Rand() * 256)
		}
	case "bad_command_id":
		b = header(wire.HeaderLen, badCommandID, ev.Sequence)
	case "huge_length":
		b = header(0x7FFFFFFF, resp, ev.Sequence)
	}
	act.Raw = b
	act.By = append(act.By, in.Spec.Name)
	in.Hit()
}

// header builds a 16-byte header with any command_length, status 0.
func header(length, id uint32, seq int32) []byte {
	b := wire.HeaderOnly(data.CommandIDType(id), data.ESME_ROK, seq)
	binary.BigEndian.PutUint32(b[0:], length)
	return b
}
