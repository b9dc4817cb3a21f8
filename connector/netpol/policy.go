package netpol

import (
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Annotations the policy carries when it lists resolved names: they
// survive kubectl apply, where the YAML comments do not.
const (
	AnnotationResolved   = "smpp-connector/resolved-hosts"
	AnnotationResolvedAt = "smpp-connector/resolved-at"
)

// NetworkPolicy is p as a Kubernetes object: the connector's pods, both
// policy types (so anything not listed is denied), p's rules in order.
func (p *Policy) NetworkPolicy(name, namespace string, podLabels map[string]string) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: podLabels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{},
		},
	}
	if len(p.Resolved) > 0 {
		np.Annotations = map[string]string{
			AnnotationResolved:   strings.Join(p.Resolved, ","),
			AnnotationResolvedAt: p.ResolvedAt.Format(time.RFC3339),
		}
	}
	for _, r := range p.Egress {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: r.ports(), To: r.peers()})
	}
	for _, r := range p.Ingress {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: r.ports(), From: r.peers()})
	}
	return np
}

func (r Rule) ports() []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, proto := range r.protocols() {
		port := intstr.FromInt32(r.Port)
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port})
	}
	return out
}

func (r Rule) peers() []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, p := range r.Peers {
		out = append(out, p.networkPolicyPeer())
	}
	return out
}

// namespaceLabel is the label Kubernetes puts on every namespace (1.21+).
const namespaceLabel = "kubernetes.io/metadata.name"

func (p Peer) networkPolicyPeer() networkingv1.NetworkPolicyPeer {
	if p.Namespace == "" {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.Prefix.String()}}
	}
	out := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceLabel: p.Namespace}},
	}
	if len(p.Labels) > 0 {
		out.PodSelector = &metav1.LabelSelector{MatchLabels: p.Labels}
	}
	return out
}
