// Package crosscheck holds only tests: the connector's text and
// concatenation code (connector/segment, connector/dispatch) against the
// simulator's own (smscsim/smstext), which was written apart from it so that
// one side's bug cannot hide in a codec both sides share. MTs built by the
// connector are read back by the simulator, and MOs sent by the simulator are
// reassembled by the connector, for every alphabet and long-message strategy.
package crosscheck
