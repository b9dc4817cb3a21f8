package session

// Which endpoint a bind is on, and its moves between the primary and the
// backups (for smpp_bind_endpoint and smpp_bind_failovers_total).

// Endpoint is the index, in [Config.Addr, Config.Backups...], of the
// endpoint the bind is bound to; bound is false while it is not (then i is
// the endpoint being tried).
func (b *Bind) Endpoint() (i int, bound bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.endpoint, b.state == StateBound
}

// failover counts and reports a move to the next endpoint, to.
func (b *Bind) failover(to string) {
	b.Stats.Failovers.Add(1)
	b.cfg.Log.Warn("failing over", "operator", b.cfg.Operator, "bind", b.name, "to", to)
	if b.cfg.OnFailover != nil {
		b.cfg.OnFailover(b.name, to)
	}
}
