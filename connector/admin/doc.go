// Package admin is the connector's operator admin API, on its HTTP port, off
// unless a token is configured (SMPP_ADMIN_TOKEN or -admin-token-file), and
// the client `smpp-connector ctl` uses. An on-call engineer lists the
// operators (bind state, the endpoint each bind is on, the owning replica,
// the configuration version), pauses and resumes an operator's sending (its
// commands wait in JetStream; the pause is kept in PostgreSQL, so it holds
// whichever replica owns the operator), renews its binds or brings them back
// to the primary endpoint, and drains a replica before maintenance (its
// operators move to the others).
//
// The package is HTTP only: the connector (connector/service) implements
// Fleet. Requests carry "Authorization: Bearer TOKEN"; a wrong or missing
// token is refused with 401 and never logged.
package admin
