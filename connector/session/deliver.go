package session

import (
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// What the SMSC sends the ESME, receipts and MO, in deliver_sm or data_sm:
// handed to the operator's handler (Config.Deliver) on a worker, answered
// with the status it returns.

// DeliverHandler handles the deliver_sm a bind receives (receipts and MO):
// the status it returns goes back in deliver_sm_resp, so it returns only once
// what it was given is safe (stored or published), and asks the SMSC to
// deliver it again (ESME_RX_T_APPN) when it could not.
//
// Handlers run side by side (Config.DeliverWorkers), so they may reach the
// store in another order than the SMSC sent: at is when the bind read the
// PDU, strictly increasing in microseconds across the process (Arrival),
// for a handler that must keep the SMSC's order (an intermediate receipt
// and the final one sent right after it).
type DeliverHandler interface {
	HandleDeliver(d *pdu.DeliverSM, at time.Time) data.CommandStatusType
}

// DeliverFunc adapts a function to a DeliverHandler.
type DeliverFunc func(d *pdu.DeliverSM, at time.Time) data.CommandStatusType

// HandleDeliver calls f.
func (f DeliverFunc) HandleDeliver(d *pdu.DeliverSM, at time.Time) data.CommandStatusType {
	return f(d, at)
}

// DataHandler is a DeliverHandler that also takes the data_sm a bind
// receives: some SMSCs send receipts and MO as data_sm (SMPP 3.4 4.7). Its
// status goes back in data_sm_resp, with the same meaning. A bind whose
// handler is not a DataHandler refuses data_sm (ESME_RINVCMDID) rather than
// answering it OK and dropping what it carried.
type DataHandler interface {
	DeliverHandler
	HandleData(d *pdu.DataSM, at time.Time) data.CommandStatusType
}

// lastArrival is the last time Arrival returned, in Unix microseconds.
var lastArrival atomic.Int64

// Arrival returns the time now, later by at least a microsecond than any
// time it returned before: the stamp of a PDU the bind read, whose order
// survives handlers running side by side and PostgreSQL's microseconds.
func Arrival() time.Time {
	us := time.Now().UnixMicro()
	for {
		last := lastArrival.Load()
		next := max(us, last+1)
		if lastArrival.CompareAndSwap(last, next) {
			return time.UnixMicro(next)
		}
	}
}

// onDeliver hands a deliver_sm or data_sm to the handler, or answers it at
// once: nil when the handler's worker answers.
func (b *Bind) onDeliver(wire *wireConn, p pdu.PDU) pdu.PDU {
	b.Stats.Delivers.Add(1)
	if b.cfg.Deliver == nil {
		return p.GetResponse()
	}
	switch v := p.(type) {
	case *pdu.DeliverSM:
		at := Arrival() // here, in the order the SMSC sent: the workers may race
		b.handOff(wire, func() pdu.PDU {
			resp := v.GetResponse()
			resp.(*pdu.DeliverSMResp).CommandStatus = b.cfg.Deliver.HandleDeliver(v, at)
			return resp
		})
	case *pdu.DataSM:
		h, ok := b.cfg.Deliver.(DataHandler)
		if !ok {
			resp := v.GetResponse()
			resp.(*pdu.DataSMResp).CommandStatus = data.ESME_RINVCMDID
			return resp
		}
		at := Arrival()
		b.handOff(wire, func() pdu.PDU {
			resp := v.GetResponse()
			resp.(*pdu.DataSMResp).CommandStatus = h.HandleData(v, at)
			return resp
		})
	}
	return nil
}

// handOff runs a deliver_sm's or data_sm's handler on a worker and writes
// the response it builds. Bounded: a stuck store slows reading rather than
// piling up goroutines.
func (b *Bind) handOff(wire *wireConn, handle func() pdu.PDU) {
	b.workers <- struct{}{}
	b.delivers.Add(1)
	go func() {
		defer func() { <-b.workers; b.delivers.Done() }()
		// Written from here, not queued to gosmpp's writer: the workers'
		// responses share syscalls (wire.go). A failed write ends the
		// session; the SMSC delivers the PDU again.
		_, _ = wire.writePDU(handle(), nil)
	}()
}
