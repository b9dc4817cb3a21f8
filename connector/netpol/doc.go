// Package netpol derives the connector's Kubernetes NetworkPolicy from its
// operators file: egress to each operator's SMSC endpoints (primary and
// backup, TLS or not) as ipBlocks with their TCP ports, to DNS, NATS,
// PostgreSQL, Vault and the operator-management-service as given by flags,
// and ingress to the metrics/health port only; everything else is denied.
//
// A peer flag is one of
//
//	IP:PORT, [IPv6]:PORT      an ipBlock of that address (/32 or /128)
//	CIDR:PORT, [CIDR]:PORT    an ipBlock of that range (10.0.0.0/24:5432)
//	HOST:PORT                 resolved with -resolve, refused otherwise
//	pod:NAMESPACE/LABELS:PORT pods in a namespace, for in-cluster services:
//	                          LABELS is KEY=VALUE[,KEY=VALUE...] or empty for
//	                          every pod (pod:nats/app.kubernetes.io/name=nats:4222)
//
// An SMSC endpoint whose host is a name is refused, naming the operator and
// the endpoint, unless -resolve is set (every A and AAAA address is listed
// and the policy says when it resolved them: addresses change, regenerate)
// or -in-cluster maps the name to a pod selector (an in-cluster simulator).
package netpol
