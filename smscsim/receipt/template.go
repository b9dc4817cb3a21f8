package receipt

import (
	"fmt"
	"regexp"
	"strings"
)

// A template is a receipt text with placeholders where the values of one
// message go, so that a receipt text captured from a real SMSC can be played
// back with the simulator's ids, dates and stats while keeping the SMSC's own
// spelling, order and spacing (smscsim replay). Placeholders:
//
//	{id} {stat} {err} {dlvrd} {text}
//	{submit10} {done10}   YYMMDDhhmm
//	{submit12} {done12}   YYMMDDhhmmss
//
// "{{" stands for a literal "{".
var placeholders = map[string]bool{
	"id": true, "stat": true, "err": true, "dlvrd": true, "text": true,
	"submit10": true, "submit12": true, "done10": true, "done12": true,
}

// CheckTemplate reports the first unknown or unclosed placeholder.
func CheckTemplate(tpl string) error {
	_, err := walkTemplate(tpl, func(string) string { return "" })
	return err
}

// RenderTemplate renders the receipt through a template (CheckTemplate it
// first: an invalid one renders what it can).
func (r Receipt) RenderTemplate(tpl string) string {
	errc := r.Err
	if errc == "" {
		errc = "000"
	}
	out, _ := walkTemplate(tpl, func(name string) string {
		switch name {
		case "id":
			return r.ID
		case "stat":
			return r.Stat
		case "err":
			return errc
		case "dlvrd":
			return string(append3(nil, r.Dlvr))
		case "text":
			return first20(r.Original)
		case "submit10", "submit12":
			return string(appendDate(nil, r.Submitted.UTC(), name == "submit12"))
		case "done10", "done12":
			return string(appendDate(nil, r.Done.UTC(), name == "done12"))
		}
		return ""
	})
	return out
}

func walkTemplate(tpl string, value func(string) string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tpl); {
		c := tpl[i]
		if c != '{' {
			b.WriteByte(c)
			i++
			continue
		}
		if strings.HasPrefix(tpl[i:], "{{") {
			b.WriteByte('{')
			i += 2
			continue
		}
		end := strings.IndexByte(tpl[i:], '}')
		if end < 0 {
			return b.String(), fmt.Errorf("unclosed placeholder at byte %d (write {{ for a literal {)", i)
		}
		name := tpl[i+1 : i+end]
		if !placeholders[name] {
			return b.String(), fmt.Errorf("unknown placeholder {%s} (want id, stat, err, dlvrd, text, submit10, submit12, done10, done12)", name)
		}
		b.WriteString(value(name))
		i += end + 1
	}
	return b.String(), nil
}

// Fields are the values read from a receipt text.
type Fields struct {
	ID, Stat, Err string
}

// receiptKey finds the keys of the Appendix B grammar, in any case.
var receiptKey = regexp.MustCompile(`(?i)(^|\s)(id|sub|dlvrd|submit date|done date|stat|err|text):`)

var dateDigits = regexp.MustCompile(`^\d{10}(\d{2})?$`)

// DeriveTemplate turns a receipt text into a template: each value the
// simulator produces (id, stat, err, dlvrd, dates, text) is replaced by its
// placeholder; everything else (the keys' spelling, sub:, the order, extra
// fields) is kept as it was. It also returns the values it read. A status
// word without its "stat:" key (the "bare" style) is found as a known stat
// standing alone.
func DeriveTemplate(text string) (string, Fields) {
	var f Fields
	locs := receiptKey.FindAllStringSubmatchIndex(text, -1)
	if !hasKey(text, locs, "stat") {
		// bare: the stat word alone between spaces, marked before the walk
		// so that it is found wherever it stands.
		for _, w := range strings.Fields(text) {
			if KnownStat(w) {
				i := indexWord(text, w)
				f.Stat, text = w, text[:i]+bareMark+text[i+len(w):]
				locs = receiptKey.FindAllStringSubmatchIndex(text, -1)
				break
			}
		}
	}
	var b strings.Builder
	pos := 0
	for i, l := range locs {
		keyEnd, valEnd := l[1], len(text)
		if i+1 < len(locs) {
			valEnd = locs[i+1][0]
		}
		key := strings.ToLower(text[l[4]:l[5]])
		if key == "text" {
			// text: runs to the end; a key inside it is part of the message.
			b.WriteString(escape(text[pos:keyEnd]) + "{text}")
			pos = len(text)
			break
		}
		b.WriteString(escape(text[pos:keyEnd]))
		pos = valEnd
		// The value is the first word; whatever follows it up to the next
		// key (another vendor field, a bare stat) is kept as text.
		val := text[keyEnd:valEnd]
		word, tail := val, ""
		if j := strings.IndexByte(val, ' '); j >= 0 {
			word, tail = val[:j], val[j:]
		}
		ph := ""
		switch key {
		case "id":
			f.ID, ph = word, "{id}"
		case "stat":
			f.Stat, ph = word, "{stat}"
		case "err":
			f.Err, ph = word, "{err}"
		case "dlvrd":
			ph = "{dlvrd}"
		case "submit date", "done date":
			if m := dateDigits.FindStringSubmatch(word); m != nil {
				digits := "10"
				if m[1] != "" {
					digits = "12"
				}
				ph = "{" + strings.Fields(key)[0] + digits + "}"
			}
		}
		if ph == "" {
			ph = escape(word)
		}
		b.WriteString(ph + escape(tail))
	}
	b.WriteString(escape(text[pos:]))
	return strings.Replace(b.String(), bareMark, "{stat}", 1), f
}

// bareMark stands for a bare stat word during DeriveTemplate: a control
// character that receipt texts do not carry and escape leaves alone.
const bareMark = "\x01"

func hasKey(text string, locs [][]int, key string) bool {
	for _, l := range locs {
		if strings.EqualFold(text[l[4]:l[5]], key) {
			return true
		}
	}
	return false
}

func indexWord(s, w string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return -1
		}
		j += i
		before := j == 0 || s[j-1] == ' '
		after := j+len(w) == len(s) || s[j+len(w)] == ' '
		if before && after {
			return j
		}
		i = j + 1
	}
}

func escape(s string) string { return strings.ReplaceAll(s, "{", "{{") }
