package testenv

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ProviderRestartable names the RestartableProvider.
const ProviderRestartable = "restartable"

// RestartableProvider starts PostgreSQL and NATS as Restartable containers
// (data on volumes, fixed loopback ports) for suites that kill and restart
// them: the fault matrix. Vault is not offered: those suites give the
// connector its credentials in rendered files.
type RestartableProvider struct {
	session string

	mu       sync.Mutex
	postgres *Restartable
	nats     *Restartable
}

// NewRestartableProvider returns a provider whose containers carry the label
// smpp-connector.session=session.
func NewRestartableProvider(session string) *RestartableProvider {
	return &RestartableProvider{session: session}
}

// Name implements Provider.
func (*RestartableProvider) Name() string { return ProviderRestartable }

// Start implements Provider.
func (p *RestartableProvider) Start(ctx context.Context, s Services) (Endpoints, error) {
	if s.Vault {
		return Endpoints{}, errors.New("restartable provider: no Vault (give the connector file credentials)")
	}
	configureContainerHost(ctx)
	var (
		e    Endpoints
		wg   sync.WaitGroup
		errs = make([]error, 2)
	)
	if s.Postgres {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, dsn, err := StartRestartablePostgres(ctx, p.session)
			p.mu.Lock()
			p.postgres = r
			p.mu.Unlock()
			e.PostgresDSN, errs[0] = dsn, err
		}()
	}
	if s.NATS {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, url, err := StartRestartableNATS(ctx, p.session)
			p.mu.Lock()
			p.nats = r
			p.mu.Unlock()
			e.NATSURL, errs[1] = url, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Endpoints{}, fmt.Errorf("restartable provider: %w", err)
	}
	return e, nil
}

// Postgres is the PostgreSQL container (nil before Start).
func (p *RestartableProvider) Postgres() *Restartable {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.postgres
}

// NATS is the NATS container (nil before Start).
func (p *RestartableProvider) NATS() *Restartable {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nats
}

// Stop implements Provider: it removes both containers with their volumes.
func (p *RestartableProvider) Stop(ctx context.Context) error {
	p.mu.Lock()
	pg, nc := p.postgres, p.nats
	p.postgres, p.nats = nil, nil
	p.mu.Unlock()
	return errors.Join(pg.Remove(ctx), nc.Remove(ctx))
}
