package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
)

// request is what an event asks for: the default window (zero From/To) or
// a backfill.
type request struct {
	From, To  extract.Period
	Providers []string
	AsOf      time.Time // zero: today
}

const accepted = `send the scheduler's {"detail-type":"Scheduled Event"} or a backfill {"from":"YYYY-MM","to":"YYYY-MM","providers":["warpstream","cockroachdb","spectrocloud"],"as_of":"YYYY-MM-DD"} (every field optional)`

// parseEvent reads the EventBridge "Scheduled Event" payload (the default
// window) or a backfill object (DESIGN §7); anything else is refused, so a
// mistyped backfill never silently runs the default window.
func parseEvent(raw []byte) (request, error) {
	var r request
	var envelope struct {
		DetailType string `json:"detail-type"`
	}
	if json.Unmarshal(raw, &envelope) == nil && envelope.DetailType == "Scheduled Event" {
		r.Providers = extract.Providers
		return r, nil
	}
	var b struct {
		From      string   `json:"from"`
		To        string   `json:"to"`
		Providers []string `json:"providers"`
		AsOf      string   `json:"as_of"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || dec.More() || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		if err == nil {
			err = fmt.Errorf("not one JSON object")
		}
		return r, fmt.Errorf("event not understood (%v): %s", err, accepted)
	}
	var err error
	if b.From != "" {
		if r.From, err = extract.ParsePeriod(b.From); err != nil {
			return r, fmt.Errorf("event: from: %v", err)
		}
	}
	if b.To != "" {
		if r.To, err = extract.ParsePeriod(b.To); err != nil {
			return r, fmt.Errorf("event: to: %v", err)
		}
	}
	if r.Providers, err = invoiceexport.ParseProviders(strings.Join(b.Providers, ",")); err != nil {
		return r, fmt.Errorf("event: providers: %v", err)
	}
	if b.AsOf != "" {
		if r.AsOf, err = time.Parse("2006-01-02", b.AsOf); err != nil {
			return r, fmt.Errorf("event: as_of %q is not a date: use YYYY-MM-DD", b.AsOf)
		}
	}
	return r, nil
}
