package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// cmdWait polls bearerbox's status page until its SMSC connection is online
// (bound to the simulator) and, with -smsbox, an smsbox is connected; with
// -dial it also waits for that address (smsbox's sendsms port) to accept.
func cmdWait(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	status := fs.String("status", "", "bearerbox status URL (http://127.0.0.1:13000/status.txt?password=...)")
	smsbox := fs.Bool("smsbox", false, "also wait for an smsbox connection")
	dial := fs.String("dial", "", "also wait for this host:port to accept connections")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *status == "" {
		return errors.New("wait: -status is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var last string
	for {
		page, err := fetch(ctx, *status)
		if err != nil {
			last = err.Error()
		} else if ok, why := kannelReady(page, *smsbox); ok {
			if *dial == "" || dialable(*dial) {
				return nil
			}
			last = *dial + " does not accept connections yet"
		} else {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait: Kannel not ready after %s: %s", *timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return string(b), err
}

// kannelReady reads bearerbox's status.txt: the SMSC connections section
// lists each link with "(online Ns" once bound; the box connections section
// lists "smsbox:" for each connected smsbox.
func kannelReady(page string, wantSMSBox bool) (bool, string) {
	_, smscs, found := strings.Cut(page, "SMSC connections:")
	if !found {
		return false, "no SMSC connections section in the status page"
	}
	if !strings.Contains(smscs, "(online") {
		return false, "SMSC not online: " + strings.TrimSpace(smscs)
	}
	if wantSMSBox {
		boxes, _, _ := strings.Cut(page, "SMSC connections:")
		if _, after, ok := strings.Cut(boxes, "Box connections:"); !ok || !strings.Contains(after, "smsbox:") {
			return false, "no smsbox connected"
		}
	}
	return true, ""
}

func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
