package dlr

// The receipt text grammar (see the package comment): the lenient scanner
// of "id:... stat:... text:..." and its dates and numbers.

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// textFields holds the raw values found in a receipt text.
type textFields struct {
	has                                           uint16
	id, sub, dlvrd, submit, done, stat, err, text string
	// bare is the first token outside text: that is a known status word
	// in capitals (statWords) without a "stat:" key, as some SMSCs write
	// it; bares counts such tokens.
	bare  string
	bares int
	// prose: a token outside text: is neither a key, a key's value (a
	// date's with the time after it), nor a status word in capitals: the
	// text is not in the receipt's shape. Only LooksLikeReceipt asks: a
	// receipt marked as one by its esm_class is read whatever its shape.
	prose bool
	// after: the keys (has bits) read after text: (see afterText).
	after uint16
}

// Which keys were seen (bits of textFields.has).
const (
	hasID uint16 = 1 << iota
	hasSub
	hasDlvrd
	hasSubmit
	hasDone
	hasStat
	hasErr
	hasText
	hasOther
	hasBare // a bare status word (textFields.bare)
)

// parse scans s once: at each token boundary it tries to read a key
// (word, optional spaces, colon); a value is the next token, or empty if a
// known key follows; text: takes the rest. A date's value takes the
// time-shaped token after it too ("submit date:24/12/01 12:00", see
// withTime). The first occurrence of a key wins.
//
// Words that are not keys are skipped. The first status word in capitals
// among them is the bare stat (t.bare), as in "DELIVRD", "id:123 DELIVRD"
// or "id:123 ... done date:2412011201 DELIVRD err:000 text:..."; any
// other word is prose (t.prose). Parse takes the bare stat whatever
// surrounds it, as it always did: the receipt's esm_class says it is one.
// LooksLikeReceipt asks for the receipt's shape: no prose, and at most one
// status word (see looksLike).
func (t *textFields) parse(s string) {
	i := 0
	for i < len(s) {
		i = skipSpace(s, i)
		if i >= len(s) {
			return
		}
		k, j := readKey(s, i)
		if k == 0 {
			e := skipToken(s, i)
			if isBareStat(s[i:e]) {
				t.bares++
				if t.has&hasBare == 0 {
					t.bare = s[i:e]
					t.has |= hasBare
				}
			} else {
				t.prose = true
			}
			i = e
			continue
		}
		if k == hasText {
			t.text = s[skipBlank(s, j):]
			t.has |= hasText
			t.afterText()
			return
		}
		v := ""
		if j < len(s) && !isSpace(s[j]) {
			e := withTime(s, k, skipToken(s, j))
			v, i = s[j:e], e
		} else {
			// Tolerant spacing: "id: 123". If a known key follows, the value is empty.
			j2 := skipSpace(s, j)
			if k2, _ := readKey(s, j2); k2 != 0 && k2 != hasOther {
				i = j2
			} else {
				e := skipToken(s, j2)
				if e > j2 {
					e = withTime(s, k, e)
				}
				v, i = s[j2:e], e
			}
		}
		if t.has&k != 0 {
			continue
		}
		t.set(k, v)
	}
}

// afterText splits off the end of t.text the receipt fields some SMSCs
// write after text: ("... stat:DELIVRD text:hello err:000"): the longest
// run of well-formed fields (wellFormed) that ends the message, each of a
// key not read before text: and not repeated in the run, separated by white
// space. Only sub:, dlvrd:, submit date:, done date: and err: are read
// there: never id: nor stat:, which could only come from the subscriber's
// message ("text:Your parcel stat:UNDELIV") and would match the receipt to
// another message or give it the subscriber's status. Whatever comes before
// the run is the text; anything that is not such a field breaks the run, so
// a text that merely contains "err:5" in a sentence stays text. An err:
// read here gives way to network_error_code (Parse).
func (t *textFields) afterText() {
	s := t.text
	type field struct {
		k uint16
		v string
	}
	var run [5]field
	n, start, keys := 0, -1, uint16(0)
	const allowed = hasSub | hasDlvrd | hasSubmit | hasDone | hasErr
	for i := 0; i < len(s); {
		i = skipSpace(s, i)
		if i >= len(s) {
			break
		}
		k, j := readKey(s, i)
		v, e := "", i
		if k&allowed != 0 && t.has&k == 0 {
			j = skipBlank(s, j)
			e = skipToken(s, j)
			if e > j {
				e = withTime(s, k, e)
			}
			v = s[j:e]
		}
		if v == "" || !wellFormed(k, v) {
			n, start, keys = 0, -1, 0
			i = skipToken(s, i)
			continue
		}
		if keys&k != 0 { // a repeated key: the run starts again here
			n, start, keys = 0, -1, 0
		}
		if start < 0 {
			start = i
		}
		run[n] = field{k, v}
		n++
		keys |= k
		i = e
	}
	if start < 0 {
		return
	}
	t.text = trimRight(s[:start])
	for _, f := range run[:n] {
		t.set(f.k, f.v)
	}
	t.after = keys
}

// set records the value of a key not read yet.
func (t *textFields) set(k uint16, v string) {
	t.has |= k
	switch k {
	case hasID:
		t.id = v
	case hasSub:
		t.sub = v
	case hasDlvrd:
		t.dlvrd = v
	case hasSubmit:
		t.submit = v
	case hasDone:
		t.done = v
	case hasStat:
		t.stat = v
	case hasErr:
		t.err = v
	}
}

// wellFormed reports whether v is a value of key k as receipts write it:
// an id token (idToken), sub: and dlvrd: of 1 to 3 digits,
// dates Parse reads (parseDate), a status word Normalize knows (stat:),
// err: of 1 to 5 digits.
func wellFormed(k uint16, v string) bool {
	switch k {
	case hasID:
		return idToken(v)
	case hasSub, hasDlvrd:
		return digits(v, 1, 3)
	case hasSubmit, hasDone:
		return !parseDate(v).IsZero()
	case hasStat:
		_, ok := statWord(v)
		return ok
	case hasErr:
		return digits(v, 1, 5)
	}
	return false
}

// digits reports whether s is min to max decimal digits.
func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// idToken reports whether s can be a message id: 1 to 64 octets (SMPP 3.4
// 5.2.23: at most 65 with the NUL) of printable characters, UTF-8 without
// white space or control characters. SMSCs' id alphabets vary (decimal,
// hex, uuid, and aggregators' ids with '+', '/', ':', '='), so the id is
// not what tells a receipt from an MO: the other fields are (looksLike).
func idToken(s string) bool {
	if len(s) == 0 || len(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// withTime returns the end of key k's value that ends at e: for a date
// (submit date:, done date:), after the time-shaped token (isTime) that
// follows it past blanks, if there is one, as in "submit date:24/12/01
// 12:00" or "2024-12-01 12:00:00"; e otherwise.
// The time is part of the date's value (parseDate reads the pair), so it
// is neither prose nor lost.
func withTime(s string, k uint16, e int) int {
	if k&(hasSubmit|hasDone) == 0 {
		return e
	}
	j := skipBlank(s, e)
	if j == e {
		return e
	}
	t := skipToken(s, j)
	if isTime(s[j:t]) {
		return t
	}
	return e
}

// isTime reports whether tok is shaped like a time: h:mm, hh:mm or
// hh:mm:ss (digits; their ranges are parseDate's to check).
func isTime(tok string) bool {
	i := 0
	for i < len(tok) && i < 3 && tok[i] >= '0' && tok[i] <= '9' {
		i++
	}
	if i < 1 || i > 2 {
		return false
	}
	rest := tok[i:]
	for n := 0; n < 2; n++ {
		if len(rest) >= 3 && rest[0] == ':' && digits(rest[1:3], 2, 2) {
			rest = rest[3:]
			if rest == "" {
				return true
			}
			continue
		}
		return false
	}
	return false
}

// trimRight trims white space and NULs at the end of s.
func trimRight(s string) string {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// readKey reads a key at s[i:]: a word of letters, digits, '_' and '-' that
// starts with a letter ("submit"/"done" may be followed by spaces and
// "date"), optional blanks, and a colon. It returns the key's bit (hasOther
// for an unknown key, 0 if there is no key) and the index after the colon.
func readKey(s string, i int) (uint16, int) {
	if i >= len(s) || !isLetter(s[i]) {
		return 0, 0
	}
	j := i + 1
	for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-') {
		j++
	}
	word := s[i:j]
	var k uint16
	switch {
	case eqFold(word, "id"):
		k = hasID
	case eqFold(word, "sub"):
		k = hasSub
	case eqFold(word, "dlvrd"), eqFold(word, "dlvr"):
		k = hasDlvrd
	case eqFold(word, "stat"):
		k = hasStat
	case eqFold(word, "err"), eqFold(word, "error"):
		k = hasErr
	case eqFold(word, "text"):
		k = hasText
	case eqFold(word, "submitdate"), eqFold(word, "submit_date"):
		k = hasSubmit
	case eqFold(word, "donedate"), eqFold(word, "done_date"):
		k = hasDone
	case eqFold(word, "submit"), eqFold(word, "done"):
		d := skipBlank(s, j)
		if d+4 <= len(s) && eqFold(s[d:d+4], "date") && (d+4 == len(s) || !isLetter(s[d+4])) {
			j = d + 4
			if word[0] == 's' || word[0] == 'S' {
				k = hasSubmit
			} else {
				k = hasDone
			}
		} else {
			k = hasOther
		}
	default:
		k = hasOther
	}
	j = skipBlank(s, j)
	if j >= len(s) || s[j] != ':' {
		return 0, 0
	}
	return k, j + 1
}

// isBareStat reports whether a token is a known status word written in
// capitals, as SMSCs write stats. Lower-case words are not taken: without
// its key, "delivered" is more likely prose than a status.
func isBareStat(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] < 'A' || tok[i] > 'Z' {
			return false
		}
	}
	_, ok := statWord(tok)
	return ok
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0 || c == '\v' || c == '\f'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// skipBlank skips spaces and tabs only.
func skipBlank(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func skipToken(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return i
}

// eqFold compares s with an upper- or lower-case ASCII word, ignoring case.
func eqFold(s, word string) bool {
	if len(s) != len(word) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], word[i]
		if a == b {
			continue
		}
		if a|0x20 != b|0x20 || !isLetter(a) {
			return false
		}
	}
	return true
}

// upperASCII upper-cases ASCII letters only (stats are ASCII; other bytes
// are kept as they are, invalid UTF-8 included). It allocates only when
// there is something to change.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// trimBytes trims white space and NULs at both ends.
func trimBytes(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// atoi parses a non-negative decimal of up to 9 digits; anything else is 0.
func atoi(s string) int {
	if len(s) == 0 || len(s) > 9 {
		return 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// parseDate parses YYMMDDhhmm, YYMMDDhhmmss or YYYYMMDDhhmmss as UTC, the
// SMPP absolute time format YYMMDDhhmmsstnnp (SMPP 3.4 7.1.1: tenths of a
// second, then the offset from UTC in quarter hours, "+" ahead of UTC or
// "-" behind), which some SMSCs put in receipts (smppex issue 46:
// "submit date:180711070003912+"), and a year-first date with separators
// and a time (parseDateTime); the zero time if s is none of these or not a
// valid date.
func parseDate(s string) time.Time {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			return parseDateTime(s[:i], s[skipBlank(s, i):])
		}
	}
	if len(s) == 16 && (s[15] == '+' || s[15] == '-') {
		t := parseDate(s[:12])
		nn := atoi(s[13:15])
		if t.IsZero() || s[12] < '0' || s[12] > '9' || (nn == 0 && s[13:15] != "00") || nn > 48 {
			return time.Time{}
		}
		off := time.Duration(nn) * 15 * time.Minute
		if s[15] == '+' {
			off = -off
		}
		return t.Add(off)
	}
	var d [14]int
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || i >= len(d) {
			return time.Time{}
		}
		d[i] = int(s[i] - '0')
	}
	two := func(i int) int { return d[i]*10 + d[i+1] }
	var y, p int // year and position of the month
	switch len(s) {
	case 10, 12:
		y, p = 2000+two(0), 2
	case 14:
		y, p = two(0)*100+two(2), 4
	default:
		return time.Time{}
	}
	mo, day, h, mi, sec := two(p), two(p+2), two(p+4), two(p+6), 0
	if len(s) > 10 {
		sec = two(p + 8)
	}
	if mo < 1 || mo > 12 || day < 1 || day > daysIn(mo, y) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), day, h, mi, sec, 0, time.UTC)
}

// parseDateTime parses a date written year first with '/' or '-' (YY/MM/DD,
// YYYY/MM/DD, YY-MM-DD, YYYY-MM-DD; the same separator twice, two-digit
// years as 20YY) and a time h:mm, hh:mm or hh:mm:ss, as UTC, as some SMSCs
// write "submit date:24/12/01 12:00". Day-first dates ("01/12/2024") are
// not read: 1 December or 12 January cannot be told apart.
func parseDateTime(d, tm string) time.Time {
	var y int
	switch {
	case len(d) == 8 && digits(d[:2], 2, 2):
		y, d = 2000+atoi(d[:2]), d[2:]
	case len(d) == 10 && digits(d[:4], 4, 4):
		y, d = atoi(d[:4]), d[4:]
	default:
		return time.Time{}
	}
	// d is now "/MM/DD" or "-MM-DD".
	if (d[0] != '/' && d[0] != '-') || d[3] != d[0] || !digits(d[1:3], 2, 2) || !digits(d[4:6], 2, 2) || !isTime(tm) {
		return time.Time{}
	}
	mo, day := atoi(d[1:3]), atoi(d[4:6])
	c := 1 // the colon after the hour
	if tm[1] != ':' {
		c = 2
	}
	h, mi, sec := atoi(tm[:c]), atoi(tm[c+1:c+3]), 0
	if len(tm) > c+3 {
		sec = atoi(tm[c+4:])
	}
	if mo < 1 || mo > 12 || day < 1 || day > daysIn(mo, y) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), day, h, mi, sec, 0, time.UTC)
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
