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

// stateNames maps message_state (SMPP 3.4 5.2.28) to its name.
var stateNames = [...]string{1: "ENROUTE", 2: "DELIVERED", 3: "EXPIRED", 4: "DELETED",
	5: "UNDELIVERABLE", 6: "ACCEPTED", 7: "UNKNOWN", 8: "REJECTED", 9: "SKIPPED"}

// StateStatus maps a message_state value to a status (SKIPPED and values
// outside 1..8 are UNKNOWN).
func StateStatus(state int) Status {
	switch state {
	case 1:
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

// Normalize maps a stat (any case) to a status.
func Normalize(stat string) Status {
	switch {
	case eqFold(stat, "DELIVRD"), eqFold(stat, "DELIVERED"):
		return Delivered
	case eqFold(stat, "UNDELIV"), eqFold(stat, "UNDELIVERABLE"):
		return Undeliverable
	case eqFold(stat, "EXPIRED"):
		return Expired
	case eqFold(stat, "REJECTD"), eqFold(stat, "REJECTED"):
		return Rejected
	case eqFold(stat, "DELETED"):
		return Deleted
	case eqFold(stat, "ACCEPTD"), eqFold(stat, "ACCEPTED"):
		return Accepted
	case eqFold(stat, "ENROUTE"):
		return Enroute
	}
	return Unknown
}
