package replay

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// Frame is one whole PDU cut from a stream, with the time of the segment
// that completed it (when the peer could first have read all of it).
type Frame struct {
	Time time.Time
	Raw  []byte
}

// Splitter cuts an SMPP byte stream into PDUs by command_length: a PDU may
// span segments and a segment may carry several. It keeps at most one
// partial PDU. A command_length outside 16..MaxLen means the stream is not
// SMPP (TLS, another protocol) or lost its place (a capture hole): the
// splitter stops there and reports why, since SMPP has no marker to find
// the next header by.
type Splitter struct {
	MaxLen int // 0: wire.DefaultMaxLen
	buf    []byte
	err    error
}

// Write adds stream bytes that arrived at t and returns the PDUs they complete.
func (s *Splitter) Write(t time.Time, b []byte) []Frame {
	if s.err != nil {
		return nil
	}
	max := s.MaxLen
	if max <= 0 {
		max = wire.DefaultMaxLen
	}
	s.buf = append(s.buf, b...)
	var out []Frame
	for len(s.buf) >= wire.HeaderLen {
		n := binary.BigEndian.Uint32(s.buf)
		if n < wire.HeaderLen || n > uint32(max) {
			s.err = fmt.Errorf("command_length %d out of range %d..%d: not SMPP, or a hole in the capture", n, wire.HeaderLen, max)
			s.buf = nil
			return out
		}
		if uint32(len(s.buf)) < n {
			break
		}
		out = append(out, Frame{Time: t, Raw: append([]byte(nil), s.buf[:n]...)})
		s.buf = s.buf[n:]
	}
	if len(s.buf) == 0 {
		s.buf = nil // let the backing array go
	}
	return out
}

// Err is why the splitter stopped (nil while the stream is good).
func (s *Splitter) Err() error { return s.err }

// Partial is how many bytes of an unfinished PDU are held.
func (s *Splitter) Partial() int { return len(s.buf) }

// SplitPDUs cuts a whole stream at once (tests, fuzzing).
func SplitPDUs(b []byte) ([]Frame, error) {
	var s Splitter
	out := s.Write(time.Time{}, b)
	return out, s.Err()
}
