package server

import (
	"fmt"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
	"github.com/smpp-connector/smpp-connector/smscsim/smstext"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

// segmentMO turns an MO message into deliver_sm parts. dc0 is the operator's
// default alphabet: an MO with no encoding goes as data_coding 0 in it, as a
// handset's text reaches an ESME from such an SMSC.
func segmentMO(m faults.MO, ref uint16, dc0 string) ([]wire.DeliverSM, error) {
	if m.Source == "" || m.Dest == "" {
		return nil, fmt.Errorf("source and destination are required")
	}
	seg := m.Segmentation
	if seg == "" {
		seg = "udh8"
	}
	parts, err := smstext.Split(m.Text, m.Encoding, seg, dc0, ref)
	if err != nil {
		return nil, err
	}
	out := make([]wire.DeliverSM, 0, len(parts))
	for _, p := range parts {
		d := wire.DeliverSM{SrcTON: 1, SrcNPI: 1, Src: m.Source, DstTON: 0, DstNPI: 1, Dst: m.Dest,
			EsmClass: p.EsmClass, DataCoding: p.DataCoding, Message: p.Message}
		if len(m.Dest) > 0 && !isDigits(m.Dest) {
			d.DstTON, d.DstNPI = 5, 0
		}
		for _, t := range p.TLVs {
			d.TLVs = append(d.TLVs, wire.TLV{Tag: t.Tag, Value: t.Value})
		}
		out = append(out, d)
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
