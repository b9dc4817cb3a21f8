package faults_test

import (
	"context"
	"fmt"
	"time"
)

// For 6 s the SMSC answers ESME_RTHROTTLED above half the contracted TPS
// (counting the rejected arrivals, as most MNOs do): the connector retries,
// gives nothing up, and its retries stay within the contract.
var _ = register(entry{
	Name:        "throttle_storm",
	Description: "ESME_RTHROTTLED above half the TPS for 6 s",
	Messages:    3000,
	InjectAfter: 500,
	Inject: func(ctx context.Context, r *rig) {
		r.storm(ctx, "throttle-storm", "throttle", fmt.Sprintf(`{"tps":%d,"status":"ESME_RTHROTTLED"}`, defaultTPS/2), 6*time.Second)
	},
})
