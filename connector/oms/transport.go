package oms

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// newTransport is an HTTP/1.1 transport whose every connection is made by
// dialTLS with the TLS material of the moment. No proxy: the connection is
// mutual TLS end to end.
func newTransport(m *material, serverName string) *http.Transport {
	d := &net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, d, network, addr, m.config(serverName))
		},
		MaxIdleConns:          1,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: DefaultTimeout,
	}
}

// dialTLS connects and completes the handshake within ctx. The standard
// transport's own TLS would fix the CA pool for its lifetime; this one
// takes the pool (and certificate) read before the request.
func dialTLS(ctx context.Context, d *net.Dialer, network, addr string, cfg *tls.Config) (net.Conn, error) {
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return conn, nil
}
