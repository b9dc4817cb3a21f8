package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
	"github.com/smpp-connector/smpp-connector/smscsim/replay"
)

// replay turns a capture or a recorder export into a scenario file.
func (a *app) replay(args []string) error {
	var (
		in, out, name, operator, then string
		port                          uint
		speed                         float64
		withSystemID                  bool
	)
	fs := a.flagSet("replay", "smscsim replay -in capture.pcapng [-smsc-port 2775] [-speed 1] -out scenario.yaml:\n"+
		"turn a recorded SMPP session (pcap, pcapng, or a recorder export from smscsim pdus --jsonl) into a scenario\n"+
		"that plays the SMSC side's behaviour against any ESME (smscsim serve --scenario FILE)")
	fs.StringVar(&in, "in", "", "capture (pcap or pcapng) or recorder export (JSON lines); - reads standard input")
	fs.StringVar(&out, "out", "-", "scenario file to write; - writes standard output")
	fs.UintVar(&port, "smsc-port", 0, "TCP port of the SMSC side (default: the side that answers binds and submits)")
	fs.Float64Var(&speed, "speed", 1, "divide every delay and offset by this (2 plays twice as fast)")
	fs.StringVar(&name, "name", "replay", "scenario name")
	fs.StringVar(&operator, "operator", "", "operator id MO messages are injected on (without it, MO is left out)")
	fs.StringVar(&then, "then", "", "after the last recorded answer: repeat_last (default), cycle or pass")
	fs.BoolVar(&withSystemID, "with-system-id", false, "name the recorded system_id(s) in the header comment (passwords are never written)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("replay: unexpected argument %q", pos[0])
	}
	if in == "" {
		fs.Usage()
		return errors.New("replay: -in is required")
	}
	if port > 65535 {
		return fmt.Errorf("replay: -smsc-port %d is not a port", port)
	}
	switch then {
	case "", "repeat_last", "cycle", "pass":
	default:
		return fmt.Errorf("replay: -then %q: want repeat_last, cycle or pass", then)
	}
	raw, err := readInput(a.stdin, in)
	if err != nil {
		return err
	}
	b, err := behaviour(raw, uint16(port))
	if err != nil {
		return fmt.Errorf("replay %s: %w", in, err)
	}
	o := replay.Options{Name: name, Speed: speed, Operator: operator, Then: then}
	sc, err := replay.Build(b, o)
	if err != nil {
		return fmt.Errorf("replay %s: %w", in, err)
	}
	yml, err := replay.Marshal(sc, replay.Header(b, in, o, withSystemID))
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = a.stdout.Write(yml)
		return err
	}
	if err := os.WriteFile(out, yml, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote %s: %d submit answers, %d receipts, %d MO, %d notes\n", out, len(b.Submits), len(b.Receipts), len(b.MOs), len(b.Notes))
	return nil
}

// maxInput bounds what replay reads into memory.
const maxInput = 1 << 30

func readInput(stdin io.Reader, path string) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err == nil && len(b) > maxInput {
		err = fmt.Errorf("%s is larger than %d bytes: cut the capture to the session to replay", path, maxInput)
	}
	return b, err
}

// behaviour sniffs the input: a capture by its magic number, otherwise a
// recorder export (JSON lines).
func behaviour(raw []byte, port uint16) (*replay.Behaviour, error) {
	segs, err := replay.ReadCapture(bytes.NewReader(raw))
	if errors.Is(err, replay.ErrNotCapture) {
		recs, jerr := recorder.ReadJSONL(bytes.NewReader(raw))
		if jerr != nil {
			return nil, fmt.Errorf("neither a pcap/pcapng capture nor a recorder export (JSON lines): %v", jerr)
		}
		if len(recs) == 0 {
			return nil, errors.New("empty recorder export")
		}
		return replay.FromRecords(recs), nil
	}
	if err != nil {
		return nil, err
	}
	sess, err := replay.FromFlows(replay.Reassemble(segs), port)
	if err != nil {
		return nil, err
	}
	return replay.Extract(sess), nil
}
