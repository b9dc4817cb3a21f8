package phase1_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// esme is a minimal ESME on gosmpp (the library the connector is built on),
// used until the connector itself runs in the suites.
type esme struct {
	sess     *gosmpp.Session
	mu       sync.Mutex
	resps    map[int32]*pdu.SubmitSMResp
	receipts map[string]*pdu.DeliverSM
}

func bindESME(addr, systemID, password, systemType string) *esme {
	GinkgoHelper()
	e := &esme{resps: map[int32]*pdu.SubmitSMResp{}, receipts: map[string]*pdu.DeliverSM{}}
	auth := gosmpp.Auth{SMSC: addr, SystemID: systemID, Password: password, SystemType: systemType}
	sess, err := gosmpp.NewSession(gosmpp.TRXConnector(gosmpp.NonTLSDialer, auth), gosmpp.Settings{
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 2 * time.Second,
		OnPDU: func(p pdu.PDU, _ bool) {
			e.mu.Lock()
			defer e.mu.Unlock()
			switch v := p.(type) {
			case *pdu.SubmitSMResp:
				e.resps[v.SequenceNumber] = v
			case *pdu.DeliverSM:
				if f, ok := v.OptionalParameters[pdu.TagReceiptedMessageID]; ok {
					e.receipts[f.String()] = v
				}
			}
		},
	}, time.Second)
	Expect(err).NotTo(HaveOccurred(), "bind_transceiver %s as %s", addr, systemID)
	DeferCleanup(func() error {
		// The SMSC closes the connection once it has answered the unbind;
		// gosmpp's reader may have closed it first: no failure.
		if err := sess.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	e.sess = sess
	return e
}

// submitAndWait submits text with a receipt requested and waits for the resp
// and, if it was accepted, the receipt.
func (e *esme) submitAndWait(ctx context.Context, dest, text string) (*pdu.SubmitSMResp, *pdu.DeliverSM) {
	GinkgoHelper()
	sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
	sm.SourceAddr = pdu.NewAddressWithTonNpi(5, 0)
	Expect(sm.SourceAddr.SetAddress("ACME")).To(Succeed())
	sm.DestAddr = pdu.NewAddressWithTonNpi(1, 1)
	Expect(sm.DestAddr.SetAddress(dest)).To(Succeed())
	Expect(sm.Message.SetMessageWithEncoding(text, data.GSM7BIT)).To(Succeed())
	sm.RegisteredDelivery = 1
	Expect(e.sess.Transceiver().Submit(sm)).To(Succeed())

	var resp *pdu.SubmitSMResp
	Eventually(func() *pdu.SubmitSMResp {
		e.mu.Lock()
		defer e.mu.Unlock()
		resp = e.resps[sm.SequenceNumber]
		return resp
	}).WithContext(ctx).WithTimeout(10 * time.Second).ShouldNot(BeNil())
	if resp.CommandStatus != data.ESME_ROK {
		return resp, nil
	}
	var receipt *pdu.DeliverSM
	Eventually(func() *pdu.DeliverSM {
		e.mu.Lock()
		defer e.mu.Unlock()
		receipt = e.receipts[resp.MessageID]
		return receipt
	}).WithContext(ctx).WithTimeout(10 * time.Second).ShouldNot(BeNil())
	return resp, receipt
}
