package dlr

import (
	"encoding/json"
	"testing"
)

// The statuses are stored in PostgreSQL and published in receipt events as
// they are: their text is a contract.
func TestStatusValuesAreTheContract(t *testing.T) {
	want := map[Status]string{
		Delivered: "DELIVERED", Undeliverable: "UNDELIVERABLE", Expired: "EXPIRED", Rejected: "REJECTED",
		Deleted: "DELETED", Accepted: "ACCEPTED", Enroute: "ENROUTE", Unknown: "UNKNOWN",
	}
	for s, text := range want {
		b, err := json.Marshal(struct {
			S Status `json:"status"`
		}{s})
		if err != nil || string(b) != `{"status":"`+text+`"}` || !s.Valid() {
			t.Errorf("%s: %s %v valid=%v", text, b, err, s.Valid())
		}
		if s.Final() == (s == Accepted || s == Enroute) {
			t.Errorf("%s: Final() = %v", s, s.Final())
		}
	}
	if Status("DELIVRD").Valid() || Status("").Valid() {
		t.Error("raw stat or empty status valid")
	}
}
