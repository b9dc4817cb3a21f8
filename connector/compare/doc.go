// Package compare joins the legacy dispatcher's submit outcome log with the
// connector's shadow outcome log on the orchestrator's message id, message
// by message, for the Phase 2 exit criterion ("submit success >= 99.5%
// matching the legacy dispatcher"): `smpp-connector compare`.
//
// One job per file:
//
//	records.go    the outcome record, the per-file log and its line errors
//	codes.go      SMPP command status codes: parsing and names
//	mapping.go    the legacy log's column mapping (YAML or JSON file, defaults)
//	legacy.go     the legacy reader: CSV with a header, or JSON lines
//	shadowlog.go  the connector reader: outcome events, the shadow comparison
//	              log, the connector's own slog output, or a psql export
//	join.go       the join and the classification of each message
//	report.go     the report as text and as JSON
//	run.go        what the subcommand does: read, compare, print, check the threshold
//
// The readers use only the standard library (encoding/csv, encoding/json,
// bufio): the logs are plain CSV and JSON lines, and a parser of our own
// keeps every line accounted for (read, skipped with a reason, or invalid
// with the file, line and field). The formats are documented in README.md.
package compare
