package compare

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLine bounds a JSON line (and a CSV record): a longer one is a broken
// file, not an outcome.
const maxLine = 1 << 20

// ReadLegacy reads the legacy dispatcher's outcome log (CSV with a header,
// or JSON lines) as the mapping says. A line that cannot be read is in the
// Log's Invalid list with its line and field; an error is returned only
// when the file as a whole cannot be read (no header, a column missing
// from the header, a line too long).
func ReadLegacy(file string, r io.Reader, m Mapping) (*Log, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format := m.Format
	if format == "auto" || format == "" {
		format = "csv"
		if b := firstByte(br); b == '{' {
			format = "jsonl"
		}
	}
	l := newLog(file)
	var err error
	if format == "jsonl" {
		err = readJSONLines(l, br, func(line int, b []byte) { legacyJSON(l, &m, line, b) })
	} else {
		err = readLegacyCSV(l, br, &m)
	}
	if err != nil {
		return l, err
	}
	l.findDuplicates()
	return l, nil
}

// firstByte peeks at the first byte that is not white space (or a BOM).
func firstByte(br *bufio.Reader) byte {
	b, _ := br.Peek(4096)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// readJSONLines calls each for every non-blank line, counting blank ones.
func readJSONLines(l *Log, r io.Reader, each func(line int, b []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		l.Lines++
		b := bytes.TrimSpace(sc.Bytes())
		if l.Lines == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			l.skip("blank line")
			continue
		}
		each(l.Lines, b)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{File: l.File, Line: l.Lines + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		return fmt.Errorf("%s: %w", l.File, err)
	}
	return nil
}

// jsonError words a decoding error with its field where it has one.
func jsonError(err error) (field, msg string) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "", fmt.Sprintf("bad JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te) && te.Field == "":
		return "", fmt.Sprintf("want a JSON object, got a JSON %s", te.Value)
	case errors.As(err, &te):
		return te.Field, fmt.Sprintf("want a %s, got a JSON %s", te.Type, te.Value)
	}
	return "", "bad JSON: " + err.Error()
}

// legacyJSON reads one JSON line of the legacy log.
func legacyJSON(l *Log, m *Mapping, line int, b []byte) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		field, msg := jsonError(err)
		l.invalid(line, field, "%s", msg)
		return
	}
	c := m.Columns
	get := func(key string) (string, bool, error) {
		raw, ok := obj[key]
		if !ok || string(raw) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, true, nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return n.String(), true, nil
		}
		return "", true, fmt.Errorf("want a string or a number, got %s", raw)
	}
	vals := map[string]string{}
	for _, key := range []string{c.MessageID, c.Operator, c.Outcome, c.ErrorCode, c.Timestamp} {
		if key == "" {
			continue
		}
		v, ok, err := get(key)
		if err != nil {
			l.invalid(line, key, "%v", err)
			return
		}
		if !ok && key != c.ErrorCode {
			l.invalid(line, key, "missing")
			return
		}
		vals[key] = v
	}
	legacyRecord(l, m, line, vals)
}

// readLegacyCSV reads the CSV log: a header, then one message a row.
func readLegacyCSV(l *Log, r io.Reader, m *Mapping) error {
	cr := csv.NewReader(&lineCounter{r: r, n: &l.Lines})
	cr.Comma, _ = utf8.DecodeRuneInString(m.Delimiter)
	cr.FieldsPerRecord = -1 // a short row is this line's error, not the file's
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return &LineError{File: l.File, Line: 1, Msg: "empty file: want a header line naming the columns"}
	}
	if err != nil {
		return &LineError{File: l.File, Line: 1, Msg: "header: " + csvMsg(err)}
	}
	spanned := recordLines(cr, header)
	index := map[string]int{}
	names := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		names[i] = strings.TrimSpace(h)
		if _, dup := index[strings.ToLower(names[i])]; !dup {
			index[strings.ToLower(names[i])] = i
		}
	}
	c := m.Columns
	type col struct {
		key string
		i   int
	}
	var cols []col // in the mapping's order, so that a short row's error is always the same
	for _, key := range []string{c.MessageID, c.Operator, c.Outcome, c.ErrorCode, c.Timestamp} {
		if key == "" {
			continue
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(key))]
		if !ok {
			return &LineError{File: l.File, Line: 1, Field: key,
				Msg: fmt.Sprintf("no such column in the header (columns: %s); set it in the mapping file", strings.Join(names, ", "))}
		}
		cols = append(cols, col{key, i})
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			// encoding/csv passes over empty lines: count them here.
			if blank := l.Lines - spanned; blank > 0 {
				l.Skipped["blank line"] += blank
			}
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			spanned += pe.Line - pe.StartLine + 1
			l.invalid(pe.StartLine, "", "%s", csvMsg(err))
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", l.File, err)
		}
		line, _ := cr.FieldPos(0)
		spanned += recordLines(cr, rec)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			l.skip("blank line")
			continue
		}
		vals := map[string]string{}
		for _, c := range cols {
			if c.i >= len(rec) {
				l.invalid(line, c.key, "missing: the row has %d field(s), the header %d", len(rec), len(header))
				vals = nil
				break
			}
			vals[c.key] = rec[c.i]
		}
		if vals != nil {
			legacyRecord(l, m, line, vals)
		}
	}
}

// recordLines is the number of lines the record just read spans.
func recordLines(cr *csv.Reader, rec []string) int {
	first, _ := cr.FieldPos(0)
	last, _ := cr.FieldPos(len(rec) - 1)
	return last + strings.Count(rec[len(rec)-1], "\n") - first + 1
}

func csvMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "bad CSV: " + pe.Err.Error()
	}
	return err.Error()
}

// legacyRecord checks one line's values and adds its record.
func legacyRecord(l *Log, m *Mapping, line int, vals map[string]string) {
	c := m.Columns
	rec := Record{Line: line, MessageID: strings.TrimSpace(vals[c.MessageID]), Operator: strings.TrimSpace(vals[c.Operator])}
	if rec.MessageID == "" {
		l.invalid(line, c.MessageID, "empty message id")
		return
	}
	o, ok := m.outcome(vals[c.Outcome])
	if !ok {
		l.invalid(line, c.Outcome, "unknown outcome value %q (want %s; set outcomes in the mapping file)", vals[c.Outcome], m.outcomeValues())
		return
	}
	rec.Outcome = o
	if o == Rejected {
		rec.Code = m.code(vals[c.ErrorCode])
		if rec.Code == "" {
			l.invalid(line, c.ErrorCode, "empty error code on a rejected message")
			return
		}
	}
	if c.Timestamp != "" {
		at, err := m.timestamp(vals[c.Timestamp])
		if err != nil {
			l.invalid(line, c.Timestamp, "bad timestamp: %v", err)
			return
		}
		rec.At = at
	}
	l.Events++
	l.Records = append(l.Records, rec)
}

// lineCounter counts the newlines csv.Reader has consumed, so that the
// log knows how many lines the file had, and refuses a runaway record.
type lineCounter struct {
	r    io.Reader
	n    *int
	last byte
	read int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			*c.n++
		}
	}
	if n > 0 {
		c.last = p[n-1]
	}
	if err == io.EOF && c.read+int64(n) > 0 && c.last != '\n' {
		*c.n++ // a last line without its newline
		c.last = '\n'
	}
	c.read += int64(n)
	return n, err
}
