package admin

import (
	"context"
	"errors"
	"time"
)

// Operator is one operator as the API lists it.
type Operator struct {
	ID string `json:"id"`
	// Owner: this replica owns the operator (its binds are here).
	Owner bool `json:"owner"`
	// Holder is the replica that owns it, as the lease says ("" when none).
	Holder        string    `json:"holder"`
	ConfigVersion string    `json:"configVersion"`
	TPS           int       `json:"tps"`
	Window        int       `json:"window"`
	Paused        *Pause    `json:"paused,omitempty"`
	Binds         []Bind    `json:"binds"`
	Drained       bool      `json:"drained,omitempty"`
	CheckedAt     time.Time `json:"checkedAt"`
}

// Pause says who paused an operator, when and why.
type Pause struct {
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
	Since  time.Time `json:"since"`
}

// Bind is one of the owner's binds.
type Bind struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Endpoint    string `json:"endpoint,omitempty"`
	Outstanding int    `json:"outstanding"`
	Window      int    `json:"window"`
	Error       string `json:"error,omitempty"`
}

// Listing is the answer to GET /admin/v1/operators.
type Listing struct {
	Replica   string     `json:"replica"`
	Drained   bool       `json:"drained"`
	Operators []Operator `json:"operators"`
}

// Result is the answer to an action.
type Result struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Errors a Fleet returns, and the status they get.
var (
	// ErrUnknownOperator: not in this replica's configuration (404).
	ErrUnknownOperator = errors.New("operator not configured on this replica")
	// ErrNotOwner: only the owning replica can (409); NotOwner names it.
	ErrNotOwner = errors.New("this replica does not own the operator")
)

// NotOwner is ErrNotOwner naming the replica to ask instead.
type NotOwner struct{ Holder string }

func (e *NotOwner) Error() string {
	if e.Holder == "" {
		return ErrNotOwner.Error() + ": no replica owns it now"
	}
	return ErrNotOwner.Error() + ": ask replica " + e.Holder
}
func (e *NotOwner) Is(target error) bool { return target == ErrNotOwner }

// Fleet is what the API acts on: the connector's operators on this replica.
type Fleet interface {
	List(ctx context.Context) (Listing, error)
	Pause(ctx context.Context, id, reason, by string) error
	Resume(ctx context.Context, id string) (wasPaused bool, err error)
	Rebind(ctx context.Context, id string) error
	FailBack(ctx context.Context, id string) (moved bool, err error)
	Drain(ctx context.Context) error
	Undrain(ctx context.Context) error
}
