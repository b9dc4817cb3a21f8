package wire

import (
	"encoding/binary"

	"github.com/linxGnu/gosmpp/data"
)

// TLV is an optional parameter. Unlike gosmpp, zero-length values are kept and
// the order is preserved, so PDUs are byte-for-byte predictable.
type TLV struct {
	Tag   uint16
	Value []byte
}

// DeliverSM holds the fields of a deliver_sm the simulator sends (receipts and
// MO), or of a data_sm when AsDataSM is set. It is encoded by hand: it is on
// the hot path of every receipt.
type DeliverSM struct {
	// AsDataSM sends it as data_sm (SMPP 3.4 4.7): no protocol_id, priority,
	// dates, sm_default_msg_id or short_message; Message, if any, goes in a
	// message_payload TLV ahead of TLVs.
	AsDataSM       bool
	ServiceType    string
	SrcTON, SrcNPI byte
	Src            string
	DstTON, DstNPI byte
	Dst            string
	EsmClass       byte
	ProtocolID     byte
	Priority       byte
	RegDelivery    byte
	DataCoding     byte
	Message        []byte // short_message, UDH included; at most 254 octets
	TLVs           []TLV
}

// TagMessagePayload is message_payload (SMPP 3.4 5.3.2.32).
const TagMessagePayload uint16 = 0x0424

// Command is what Append encodes: deliver_sm or data_sm.
func (d *DeliverSM) Command() data.CommandIDType {
	if d.AsDataSM {
		return data.DATA_SM
	}
	return data.DELIVER_SM
}

// Append encodes the deliver_sm (or data_sm) with sequence number seq onto buf.
func (d *DeliverSM) Append(buf []byte, seq int32) []byte {
	start := len(buf)
	if d.AsDataSM {
		buf = appendHeader(buf, data.DATA_SM, data.ESME_ROK, seq)
		buf = appendCString(buf, d.ServiceType)
		buf = append(buf, d.SrcTON, d.SrcNPI)
		buf = appendCString(buf, d.Src)
		buf = append(buf, d.DstTON, d.DstNPI)
		buf = appendCString(buf, d.Dst)
		buf = append(buf, d.EsmClass, d.RegDelivery, d.DataCoding)
		if d.Message != nil {
			buf = AppendTLVs(buf, []TLV{{Tag: TagMessagePayload, Value: d.Message}})
		}
		buf = AppendTLVs(buf, d.TLVs)
		return finishLength(buf, start)
	}
	buf = appendHeader(buf, data.DELIVER_SM, data.ESME_ROK, seq)
	buf = appendCString(buf, d.ServiceType)
	buf = append(buf, d.SrcTON, d.SrcNPI)
	buf = appendCString(buf, d.Src)
	buf = append(buf, d.DstTON, d.DstNPI)
	buf = appendCString(buf, d.Dst)
	buf = append(buf, d.EsmClass, d.ProtocolID, d.Priority)
	buf = append(buf, 0, 0) // schedule_delivery_time, validity_period: always NULL in deliver_sm
	buf = append(buf, d.RegDelivery, 0, d.DataCoding, 0)
	msg := d.Message
	if len(msg) > 254 {
		msg = msg[:254]
	}
	buf = append(buf, byte(len(msg)))
	buf = append(buf, msg...)
	buf = AppendTLVs(buf, d.TLVs)
	return finishLength(buf, start)
}

// AppendTLVs encodes TLVs in order.
func AppendTLVs(buf []byte, tlvs []TLV) []byte {
	for _, t := range tlvs {
		buf = binary.BigEndian.AppendUint16(buf, t.Tag)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(t.Value)))
		buf = append(buf, t.Value...)
	}
	return buf
}

// MessageIDResp encodes a response whose body is a single message_id
// (submit_sm_resp, data_sm_resp). On an error status the id is empty but the
// NUL is still sent: some ESMEs fail to parse a body-less submit_sm_resp.
func MessageIDResp(buf []byte, id data.CommandIDType, status data.CommandStatusType, seq int32, messageID string) []byte {
	start := len(buf)
	buf = appendHeader(buf, id, status, seq)
	if status != data.ESME_ROK {
		messageID = ""
	}
	buf = appendCString(buf, messageID)
	return finishLength(buf, start)
}

func appendHeader(buf []byte, id data.CommandIDType, status data.CommandStatusType, seq int32) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 0) // length, patched by finishLength
	buf = binary.BigEndian.AppendUint32(buf, uint32(id))
	buf = binary.BigEndian.AppendUint32(buf, uint32(status))
	return binary.BigEndian.AppendUint32(buf, uint32(seq))
}

func appendCString(buf []byte, s string) []byte {
	buf = append(buf, s...)
	return append(buf, 0)
}

func finishLength(buf []byte, start int) []byte {
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start))
	return buf
}
