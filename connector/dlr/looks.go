package dlr

// Recognising a receipt by its text alone, for SMSCs that send receipts
// with esm_class 0 and no receipted_message_id (an operator quirk, off by
// default: see connector/inbound). A wrong "yes" turns a subscriber's MO
// into a receipt that matches nothing, so the rule asks for more than any
// MO is likely to carry.

// LooksLikeReceipt reports whether text is in the receipt text's shape
// strictly enough to be taken for a receipt without a receipt esm_class.
// All of these must hold:
//
//   - the shape: outside text:, nothing but keyed fields ("key:value",
//     known keys or not; a date's value with the time after it, "submit
//     date:24/12/01 12:00") and at most one bare status word; a word of
//     prose anywhere before text: ("Hi!", "see you", a time not after a
//     date) makes it no receipt. Parse does not ask for this shape: a
//     receipt marked by its esm_class is read whatever surrounds its
//     fields;
//   - an id: before text: whose value is an id token: 1 to 64 octets of
//     printable characters (idToken), whatever SMSCs' id alphabets are;
//   - a status before text:: a "stat:" whose value is a status word
//     Normalize knows (DELIVRD, UNDELIV, BUFFRED, PENDING, FAILED,
//     DELIVERED, ...), or, with no "stat:" value, a bare status word in
//     capitals (see textFields.parse);
//   - more receipt fields with well-formed values, before text: or in the
//     run of fields after it (textFields.afterText): sub: or dlvrd: of 1
//     to 3 digits, submit date: or done date: a date Parse reads (10, 12
//     or 14 digits, SMPP absolute time, or a year-first date with
//     separators and a time), err: of 1 to 5 digits. One with a "stat:",
//     two with a bare status word. A stat: after text: is never read.
//
// Keys are matched as the grammar matches them: whole words followed by a
// colon ("paid:5" has no id), in any case. So "id: 5 stat: ok" (no status
// word), "id:5 stat:DELIVRD" (nothing else a receipt carries), "id:5
// stat:DELIVRD err:x" (err not a number), "id:123 stat:DELIVRD err:000 see
// you" (prose), "id:1 DELIVRD err:000 sub:001 Delivered text:x" (prose)
// and "order id:123 was DELIVERED" are not receipts, while
// every README example with an id in its text is one (readme_test.go
// checks), but those marked looks=false.
//
// Jasmin (jasmin/protocols/smpp/operations.py, isDeliveryReceipt) is
// looser, and always on: any deliver_sm or data_sm is a receipt when its
// short_message contains the regexes id:([\dA-Za-z-_]+) and stat:(\w{7})
// anywhere, case-sensitive, even inside a word or after text: ("paid:5
// stat:pending" is one), or when it carries receipted_message_id and
// message_state. Here the keys must be words, the status a known one, the
// values well-formed and the text free of prose; receipts whose only id is
// the receipted_message_id TLV are already receipts by IsReceipt.
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
	if t.prose || t.bares > 1 || !idToken(t.id) {
		return false
	}
	need := 1
	switch {
	case t.stat != "":
		if _, ok := statWord(t.stat); !ok {
			return false
		}
	case t.has&hasBare != 0:
		need = 2
	default:
		return false
	}
	n := 0
	for _, f := range [...]struct {
		k uint16
		v string
	}{{hasSub, t.sub}, {hasDlvrd, t.dlvrd}, {hasSubmit, t.submit}, {hasDone, t.done}, {hasErr, t.err}} {
		if wellFormed(f.k, f.v) {
			n++
		}
	}
	return n >= need
}
