// Package recorder keeps the most recent PDUs the simulator received in a
// bounded ring, so tests can ask "what did the connector actually send?"
// without the simulator's memory growing with traffic.
package recorder

import (
	"strings"
	"sync"
	"time"
)

// Record is one received PDU and how the simulator answered it.
type Record struct {
	Seq        uint64    `json:"seq"` // position in the recorder, increasing
	Time       time.Time `json:"time"`
	Operator   string    `json:"operator"`
	Account    string    `json:"account,omitempty"`
	SessionID  uint64    `json:"sessionId"`
	Command    string    `json:"command"`
	Sequence   int32     `json:"sequenceNumber"`
	Status     string    `json:"responseStatus,omitempty"` // what the simulator answered ("" = no answer)
	Source     string    `json:"source,omitempty"`
	Dest       string    `json:"destination,omitempty"`
	EsmClass   byte      `json:"esmClass,omitempty"`
	DataCoding byte      `json:"dataCoding,omitempty"`
	RegDlr     byte      `json:"registeredDelivery,omitempty"`
	Text       string    `json:"text,omitempty"`      // decoded short_message (or message_payload)
	UDH        string    `json:"udh,omitempty"`       // hex of the user data header, if any
	TLVs       []string  `json:"tlvs,omitempty"`      // "0x020c=0001" ...
	MessageID  string    `json:"messageId,omitempty"` // id given in the response
	Faults     []string  `json:"faults,omitempty"`    // faults that changed the answer
	Error      string    `json:"error,omitempty"`     // why a PDU was refused as malformed
}

// Filter selects records; empty fields match everything.
type Filter struct {
	Operator   string
	Account    string
	Command    string
	DestPrefix string
	Since      time.Time
	Until      time.Time
	AfterSeq   uint64 // only records with Seq > AfterSeq
	Limit      int    // newest N when > 0
}

func (f *Filter) match(r *Record) bool {
	return (f.Operator == "" || r.Operator == f.Operator) &&
		(f.Account == "" || r.Account == f.Account) &&
		(f.Command == "" || strings.EqualFold(r.Command, f.Command)) &&
		(f.DestPrefix == "" || strings.HasPrefix(r.Dest, f.DestPrefix)) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || r.Time.Before(f.Until)) &&
		r.Seq > f.AfterSeq
}

// Recorder is a fixed-size ring of records, safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	ring    []Record
	next    uint64 // total records ever added
	dropped uint64
}

// New returns a recorder holding at most size records (0 disables recording).
func New(size int) *Recorder {
	if size < 0 {
		size = 0
	}
	return &Recorder{ring: make([]Record, size)}
}

// Add stores r, evicting the oldest record when full.
func (rc *Recorder) Add(r Record) {
	if len(rc.ring) == 0 {
		return
	}
	rc.mu.Lock()
	rc.next++
	r.Seq = rc.next
	if rc.next > uint64(len(rc.ring)) {
		rc.dropped++
	}
	rc.ring[(rc.next-1)%uint64(len(rc.ring))] = r
	rc.mu.Unlock()
}

// Query returns matching records, oldest first.
func (rc *Recorder) Query(f Filter) []Record {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := uint64(len(rc.ring))
	if n == 0 {
		return nil
	}
	start := uint64(0)
	if rc.next > n {
		start = rc.next - n
	}
	var out []Record
	for i := start; i < rc.next; i++ {
		r := &rc.ring[i%n]
		if f.match(r) {
			out = append(out, *r)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

// Stats reports the capacity, how many records were ever added and how many
// were evicted.
func (rc *Recorder) Stats() (capacity int, total, evicted uint64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.ring), rc.next, rc.dropped
}

// Reset empties the recorder.
func (rc *Recorder) Reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	clear(rc.ring)
	rc.next, rc.dropped = 0, 0
}
