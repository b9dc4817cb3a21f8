package dlr

// This file is the connector's one receipt status vocabulary: the values
// are stored as is in smpp.message_correlations.receipt_state and
// smpp.pending_receipts (connector/store) and published as the receipt
// event's status (connector/events). Changing a value changes both.

// Status is a receipt's normalised status.
type Status string

// Normalised statuses.
const (
	Delivered     Status = "DELIVERED"
	Undeliverable Status = "UNDELIVERABLE"
	Expired       Status = "EXPIRED"
	Rejected      Status = "REJECTED"
	Deleted       Status = "DELETED"
	Accepted      Status = "ACCEPTED"
	Enroute       Status = "ENROUTE"
	Unknown       Status = "UNKNOWN"
)

// Valid reports whether s is one of the normalised statuses.
func (s Status) Valid() bool {
	switch s {
	case Delivered, Undeliverable, Expired, Rejected, Deleted, Accepted, Enroute, Unknown:
		return true
	}
	return false
}

// Final reports whether s ends the message's life: everything but ACCEPTED
// and ENROUTE.
func (s Status) Final() bool { return s != Accepted && s != Enroute }

// stateNames maps message_state (SMPP 3.4 5.2.28; 0 SCHEDULED and 9 SKIPPED
// are SMPP 5.0 4.7.15) to its name.
var stateNames = [...]string{0: "SCHEDULED", 1: "ENROUTE", 2: "DELIVERED", 3: "EXPIRED", 4: "DELETED",
	5: "UNDELIVERABLE", 6: "ACCEPTED", 7: "UNKNOWN", 8: "REJECTED", 9: "SKIPPED"}

// StateStatus maps a message_state value to a status. 0 is SMPP 5.0's
// SCHEDULED (not yet tried: ENROUTE); SKIPPED (9) and values outside 0..8
// are UNKNOWN. Parse gives state 0 less weight than the others (see
// statusOf).
func StateStatus(state int) Status {
	switch state {
	case 0, 1:
		return Enroute
	case 2:
		return Delivered
	case 3:
		return Expired
	case 4:
		return Deleted
	case 5:
		return Undeliverable
	case 6:
		return Accepted
	case 8:
		return Rejected
	}
	return Unknown
}

// Normalize maps a stat (any case) to a status. Beyond the seven stats of
// SMPP 3.4 Appendix B and the message_state names, it knows the words real
// SMSCs send instead; anything else is UNKNOWN (the raw stat is kept in
// Receipt.Stat). UNKNOWN is final: an intermediate state an SMSC spells in
// its own way must be listed here, or it ends the message.
func Normalize(stat string) Status {
	if w, ok := statWord(stat); ok {
		return w
	}
	return Unknown
}

// statWords are the stats Normalize knows, upper-case. A bare status word
// (a token of the text without "stat:") is recognised only if it is one of
// these.
var statWords = map[string]Status{
	// SMPP 3.4 Appendix B / SMPP 5.0 Appendix B abbreviations and the
	// message_state names (SMPP 3.4 5.2.28), sent by Logica/CMG-style SMSCs
	// and most aggregators (Vonage, Melrose Labs, ...).
	"DELIVRD": Delivered, "DELIVERED": Delivered,
	"UNDELIV": Undeliverable, "UNDELIVERABLE": Undeliverable,
	"EXPIRED": Expired,
	"REJECTD": Rejected, "REJECTED": Rejected,
	"DELETED": Deleted,
	"ACCEPTD": Accepted, "ACCEPTED": Accepted,
	"ENROUTE": Enroute,
	"UNKNOWN": Unknown,

	// Kannel's smppbox sends "stat:BUFFRED" (with message_state 0) for a
	// message the SMSC has accepted but not delivered (its DLR_SMSC_SUCCESS);
	// Kannel's own SMPP client (gw/smsc/smsc_smpp.c, handle_dlr) reads
	// BUFFRED, BUFFERD, ACKED, ACCEPTD and ENROUTE as "buffered", not final.
	"BUFFRED": Enroute, "BUFFERD": Enroute,
	"ACKED": Accepted,

	// The same state spelled out: "BUFFERED", and "PENDING" (accepted by
	// the SMSC, not delivered yet), met by users of Kannel and Jasmin
	// behind aggregators that write their own words. Neither is in a
	// specification; without them such a receipt would be UNKNOWN, which is
	// final, and end a message that is still on its way.
	"BUFFERED": Enroute, "PENDING": Enroute,

	// SMPP 5.0 message_state 0 SCHEDULED; Melrose Labs' SMSC writes it
	// "SCHEDLD" in the receipt text. Not tried yet: en route.
	"SCHEDULED": Enroute, "SCHEDLD": Enroute,

	// "stat:FAILED": an SMSC that vumi (Praekelt's SMPP transport) was
	// connected to sends it, and vumi widened its receipt regex for it (vumi
	// pull request 897, "we've received stat:FAILED"). A final failure.
	"FAILED": Undeliverable,
}

// statWord looks stat up in statWords, ignoring ASCII case, without
// allocating.
func statWord(stat string) (Status, bool) {
	if len(stat) == 0 || len(stat) > len("UNDELIVERABLE") {
		return "", false
	}
	var buf [13]byte
	for i := 0; i < len(stat); i++ {
		c := stat[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	s, ok := statWords[string(buf[:len(stat)])]
	return s, ok
}
