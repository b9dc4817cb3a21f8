package dlr

// Recognising a receipt by its text alone, for SMSCs that send receipts
// with esm_class 0 and no receipted_message_id (an operator quirk, off by
// default: see connector/inbound). A wrong "yes" turns a subscriber's MO
// into a receipt that matches nothing, so the rule asks for more than any
// MO is likely to carry.

// LooksLikeReceipt reports whether text matches the receipt grammar
// strongly enough to be taken for a receipt without a receipt esm_class.
// All three must hold, outside the text: field:
//
//   - a non-empty id: value;
//   - a status: a "stat:" whose value is a status word Normalize knows
//     (DELIVRD, UNDELIV, BUFFRED, FAILED, DELIVERED, ...), or, with no
//     "stat:" value, a bare status word in capitals;
//   - at least one of sub:, dlvrd:, submit date:, done date:, err: with a
//     non-empty value.
//
// Keys are matched as the grammar matches them: whole words followed by a
// colon ("paid:5" has no id), in any case. So "id: 5 stat: ok" (no status
// word), "id:5 stat:DELIVRD" (nothing else a receipt carries) and "order
// id:123 was DELIVERED" are not receipts, while every README example with
// an id in its text is one (readme_test.go checks).
//
// Jasmin (jasmin/protocols/smpp/operations.py, isDeliveryReceipt) is
// looser, and always on: any deliver_sm or data_sm is a receipt when its
// short_message contains the regexes id:([\dA-Za-z-_]+) and stat:(\w{7})
// anywhere, case-sensitive, even inside a word or after text: ("paid:5
// stat:pending" is one), or when it carries receipted_message_id and
// message_state. Here the keys must be words, the status a known one, and
// a third receipt field must be present; receipts whose only id is the
// receipted_message_id TLV are already receipts by IsReceipt.
func LooksLikeReceipt(text string) bool {
	var t textFields
	t.parse(string(trimBytes([]byte(text))))
	return looksLike(&t)
}

// LooksLikeReceipt reports whether the input's text, decoded as Parse
// decodes it (DataCoding, DataCoding0, message_payload when short_message
// is empty), looks like a receipt (the function LooksLikeReceipt). When it
// does, Parse succeeds on the same input.
func (in Input) LooksLikeReceipt() bool {
	t, _ := readText(textOctets(in), in.DataCoding, in.DataCoding0)
	return looksLike(&t)
}

func looksLike(t *textFields) bool {
	if t.id == "" || t.after&hasStat != 0 {
		return false
	}
	switch {
	case t.stat != "":
		if _, ok := statWord(t.stat); !ok {
			return false
		}
	case t.has&hasBare == 0:
		return false
	}
	return t.sub != "" || t.dlvrd != "" || t.submit != "" || t.done != "" || t.err != ""
}
