package recorder

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSONL writes records one JSON object a line (JSON Lines): the
// recorder's export, which `smscsim pdus --jsonl` prints and `smscsim
// replay` reads. A line per record keeps a large export streamable and
// lets grep and jq work on it.
func WriteJSONL(w io.Writer, recs []Record) error {
	enc := json.NewEncoder(w)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// maxLine bounds one exported record (a record holds at most one PDU's text).
const maxLine = 1 << 20

// ReadJSONL reads a JSON Lines export. Blank lines are skipped; a line that
// is not a record is an error naming its number.
func ReadJSONL(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []Record
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
