package session

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/smscsim/profile"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
)

// dataHandler is a DataHandler that answers data_sm with status.
type dataHandler struct {
	DeliverFunc
	status data.CommandStatusType
	got    atomic.Pointer[pdu.DataSM]
}

func (h *dataHandler) HandleData(d *pdu.DataSM, _ time.Time) data.CommandStatusType {
	h.got.Store(d)
	return h.status
}

// An SMSC that sends its receipts as data_sm: a DataHandler gets each, and
// its status goes back in data_sm_resp; a handler that takes no data_sm
// makes the bind refuse them (ESME_RINVCMDID), never answer OK and drop.
func TestDataSMReachesTheHandler(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler DeliverHandler
		want    string // the simulator's count of the resp's status
	}{
		{"data handler", &dataHandler{status: data.ESME_RX_T_APPN}, "ESME_RX_T_APPN"},
		{"deliver_sm only", DeliverFunc(func(*pdu.DeliverSM, time.Time) data.CommandStatusType { return data.ESME_ROK }), "ESME_RINVCMDID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim, addr := startSim(t, profile.Profile{Receipt: profile.Receipt{PDU: profile.PDUDataSM}})
			cfg := fastConfig(addr)
			cfg.Deliver = c.handler
			b := NewBind(cfg, "b1", good().get)
			b.Start()
			t.Cleanup(b.Close)
			waitState(t, b, StateBound)
			if r, err := b.Submit(context.Background(), newSubmit(t, "receipt as data_sm")); err != nil || !r.OK() {
				t.Fatalf("%+v %v", r, err)
			}
			smpptest.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
				if n := sim.Stats().Sum("op", "acme", "receipt_resp", c.want); n == 0 {
					return fmt.Errorf("no data_sm_resp %s yet", c.want)
				}
				return nil
			})
			if h, ok := c.handler.(*dataHandler); ok {
				d := h.got.Load()
				if d == nil || d.EsmClass&0x04 == 0 {
					t.Fatalf("data_sm %+v", d)
				}
				if _, ok := d.OptionalParameters[pdu.TagMessagePayload]; !ok {
					t.Fatalf("no message_payload in %+v", d.OptionalParameters)
				}
			}
		})
	}
}
