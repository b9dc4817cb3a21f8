// Package wire reads and writes SMPP 3.4 PDUs on a byte stream.
//
// Reading is split in two steps so that a server can answer badly formed input
// precisely: ReadFrame checks the header and command_length and returns the raw
// frame (the stream stays in sync as long as the length is plausible); Decode
// turns a frame into a gosmpp pdu.PDU and never panics.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// HeaderLen is the size of an SMPP PDU header.
const HeaderLen = 16

// DefaultMaxLen is the largest command_length accepted by default. SMPP puts no
// hard limit on it; a short_message is at most 254 octets and message_payload at
// most 64 KiB, so 64 KiB plus headers is what real SMSCs accept.
const DefaultMaxLen = data.MAX_PDU_LEN

// ErrLengthOutOfRange is returned when command_length is below 16 or above the
// limit: the stream can no longer be trusted and the peer must be disconnected.
var ErrLengthOutOfRange = errors.New("command_length out of range")

// Frame is one PDU as read from the wire.
type Frame struct {
	Header pdu.Header
	Raw    []byte // whole PDU, header included
}

// ReadFrame reads one PDU. On ErrLengthOutOfRange the returned frame carries the
// header that was read so the caller can answer with generic_nack.
func ReadFrame(r io.Reader, maxLen int) (Frame, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	h := pdu.ParseHeader(hdr)
	n := int(uint32(h.CommandLength))
	if n < HeaderLen || n > maxLen {
		return Frame{Header: h}, fmt.Errorf("%w: %d (allowed %d..%d)", ErrLengthOutOfRange, n, HeaderLen, maxLen)
	}
	raw := make([]byte, n)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(r, raw[HeaderLen:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{Header: h}, fmt.Errorf("read body of %s: %w", CommandName(h.CommandID), err)
	}
	return Frame{Header: h, Raw: raw}, nil
}

// ErrUnknownCommand is returned by Decode for a command_id SMPP 3.4 does not define.
var ErrUnknownCommand = errors.New("unknown command_id")

// Decode parses a frame into a PDU. It recovers from panics inside the parser so
// that hostile input can never take the process down.
func Decode(f Frame) (p pdu.PDU, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("decode %s: parser panic: %v", CommandName(f.Header.CommandID), r)
		}
	}()
	p, err = pdu.CreatePDUFromCmdID(f.Header.CommandID)
	if err != nil {
		return nil, fmt.Errorf("%w 0x%08x", ErrUnknownCommand, uint32(f.Header.CommandID))
	}
	if err = p.Unmarshal(pdu.NewBuffer(f.Raw)); err != nil {
		return nil, fmt.Errorf("decode %s: %w", CommandName(f.Header.CommandID), err)
	}
	return p, nil
}

// Encode marshals a PDU to bytes.
func Encode(p pdu.PDU) []byte {
	b := pdu.NewBuffer(make([]byte, 0, 64))
	p.Marshal(b)
	return b.Bytes()
}

// GenericNack builds a generic_nack with the given status and sequence number.
func GenericNack(status data.CommandStatusType, seq int32) []byte {
	return HeaderOnly(data.GENERIC_NACK, status, seq)
}

// HeaderOnly builds a body-less PDU (enquire_link, unbind_resp, generic_nack...).
func HeaderOnly(id data.CommandIDType, status data.CommandStatusType, seq int32) []byte {
	b := make([]byte, HeaderLen)
	binary.BigEndian.PutUint32(b[0:], HeaderLen)
	binary.BigEndian.PutUint32(b[4:], uint32(id))
	binary.BigEndian.PutUint32(b[8:], uint32(status))
	binary.BigEndian.PutUint32(b[12:], uint32(seq))
	return b
}

// CommandName returns the SMPP name of a command id ("submit_sm").
func CommandName(id data.CommandIDType) string {
	s := id.String()
	if strings.HasPrefix(s, "CommandIDType(") {
		return fmt.Sprintf("0x%08x", uint32(id))
	}
	return strings.ToLower(s)
}

var commandsByName = func() map[string]data.CommandIDType {
	m := map[string]data.CommandIDType{}
	for _, id := range []data.CommandIDType{
		data.GENERIC_NACK, data.BIND_RECEIVER, data.BIND_RECEIVER_RESP, data.BIND_TRANSMITTER,
		data.BIND_TRANSMITTER_RESP, data.QUERY_SM, data.QUERY_SM_RESP, data.SUBMIT_SM, data.SUBMIT_SM_RESP,
		data.DELIVER_SM, data.DELIVER_SM_RESP, data.UNBIND, data.UNBIND_RESP, data.REPLACE_SM,
		data.REPLACE_SM_RESP, data.CANCEL_SM, data.CANCEL_SM_RESP, data.BIND_TRANSCEIVER,
		data.BIND_TRANSCEIVER_RESP, data.OUTBIND, data.ENQUIRE_LINK, data.ENQUIRE_LINK_RESP,
		data.SUBMIT_MULTI, data.SUBMIT_MULTI_RESP, data.ALERT_NOTIFICATION, data.DATA_SM, data.DATA_SM_RESP,
	} {
		m[CommandName(id)] = id
	}
	return m
}()

// ParseCommand maps an SMPP command name ("submit_sm") to its id.
func ParseCommand(name string) (data.CommandIDType, error) {
	if id, ok := commandsByName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("unknown SMPP command %q", name)
}

// StatusName returns the SMPP name of a command_status ("ESME_RTHROTTLED").
func StatusName(s data.CommandStatusType) string {
	n := s.String()
	if strings.HasPrefix(n, "CommandStatusType(") {
		return fmt.Sprintf("0x%08X", uint32(s))
	}
	return n
}

var statusesByName = func() map[string]data.CommandStatusType {
	m := map[string]data.CommandStatusType{}
	for v := 0; v <= 0x500; v++ {
		s := data.CommandStatusType(v)
		if n := s.String(); !strings.HasPrefix(n, "CommandStatusType(") {
			m[n] = s
		}
	}
	return m
}()

// ParseStatus accepts a status name ("ESME_RTHROTTLED", case-insensitive) or a
// number ("0x58", "88").
func ParseStatus(v string) (data.CommandStatusType, error) {
	v = strings.TrimSpace(v)
	if s, ok := statusesByName[strings.ToUpper(v)]; ok {
		return s, nil
	}
	n, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("unknown command_status %q: want a name like ESME_RTHROTTLED or a number like 0x58", v)
	}
	return data.CommandStatusType(n), nil
}

// IsResponse reports whether the command id is a response (high bit set).
func IsResponse(id data.CommandIDType) bool { return uint32(id)&0x80000000 != 0 }
