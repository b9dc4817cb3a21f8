#!/usr/bin/perl
# Interoperability check: Perl's Net::SMPP (an independent SMPP implementation
# from Debian's libnet-smpp-perl) binds, submits and receives the receipt.
# Usage: netsmpp_client.pl HOST PORT SYSTEM_ID PASSWORD
use strict;
use warnings;
use Net::SMPP;

my ($host, $port, $sysid, $pw) = @ARGV;
my $smpp = Net::SMPP->new_transceiver($host, port => $port, system_id => $sysid,
    password => $pw, smpp_version => 0x34, timeout => 5)
    or die "bind failed: $!\n";
print "bound\n";

my $resp = $smpp->submit_sm(source_addr => 'PERL', destination_addr => '447700900123',
    short_message => 'hello from Net::SMPP', registered_delivery => 1)
    or die "submit_sm failed\n";
die sprintf("submit_sm_resp status 0x%08x\n", $resp->{status}) if $resp->{status};
my $id = $resp->{message_id};
print "submitted $id\n";

while (1) {
    my $pdu = $smpp->read_pdu() or die "no receipt\n";
    if ($pdu->{cmd} == 0x00000005) {    # deliver_sm
        $smpp->deliver_sm_resp(message_id => '', seq => $pdu->{seq});
        print "receipt $pdu->{short_message}\n";
        last;
    }
    if ($pdu->{cmd} == 0x00000015) {    # enquire_link
        $smpp->enquire_link_resp(seq => $pdu->{seq});
    }
}
my $u = $smpp->unbind();
print "unbound\n";
