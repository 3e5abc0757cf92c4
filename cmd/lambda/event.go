package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
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
	// AcceptUnreconciled: see invoiceexport.Options.AcceptUnreconciled.
	AcceptUnreconciled bool
}

const accepted = `send the scheduler's {"detail-type":"Scheduled Event"} or a backfill {"from":"YYYY-MM","to":"YYYY-MM","providers":["warpstream","cockroachdb","spectrocloud"],"as_of":"YYYY-MM-DD","accept_unreconciled":false} (every field optional)`

// backfillFields are the backfill event's fields, matched exactly as
// written (encoding/json alone would also take "FROM" or "From").
var backfillFields = []string{"from", "to", "providers", "as_of", "accept_unreconciled"}

// parseEvent reads the EventBridge "Scheduled Event" payload (the default
// window) or a backfill object (DESIGN §7); anything else is refused, so a
// mistyped backfill never silently runs the default window.
func parseEvent(raw []byte) (request, error) {
	var r request
	fields, err := object(raw)
	if err != nil {
		return r, fmt.Errorf("event not understood (%v): %s", err, accepted)
	}
	if dt, ok := fields["detail-type"]; ok {
		var s string
		if json.Unmarshal(dt, &s) == nil && s == "Scheduled Event" {
			// The schedule's payload means the default window: a backfill
			// field in it (or in its detail) would be silently ignored.
			found := backfillNamed(fields)
			if detail, err := object(fields["detail"]); err == nil {
				found = append(found, backfillNamed(detail)...)
			}
			if len(found) > 0 {
				return r, fmt.Errorf("event: a \"Scheduled Event\" means the default window and takes no backfill field, but it carries %s: "+
					"for a backfill send only {\"from\":\"YYYY-MM\",\"to\":\"YYYY-MM\",\"providers\":[...],\"as_of\":\"YYYY-MM-DD\"}", strings.Join(found, ", "))
			}
			r.Providers = slices.Clone(extract.Providers)
			return r, nil
		}
	}
	var b struct {
		From, To, AsOf string
		Providers      []string
		Accept         bool
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v := fields[name]
		var dst any
		switch name {
		case "from":
			dst = &b.From
		case "to":
			dst = &b.To
		case "as_of":
			dst = &b.AsOf
		case "providers":
			dst = &b.Providers
		case "accept_unreconciled":
			dst = &b.Accept
		default:
			why := fmt.Sprintf("unknown field %q", name)
			if i := slices.IndexFunc(backfillFields, func(f string) bool { return strings.EqualFold(f, name) }); i >= 0 {
				why += fmt.Sprintf(" (field names are matched exactly: write %q)", backfillFields[i])
			}
			return r, fmt.Errorf("event not understood (%s): %s", why, accepted)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return r, fmt.Errorf("event not understood (%s: %v): %s", name, err, accepted)
		}
	}
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
	r.AcceptUnreconciled = b.Accept
	if b.AsOf != "" {
		if r.AsOf, err = time.Parse("2006-01-02", b.AsOf); err != nil {
			return r, fmt.Errorf("event: as_of %q is not a date: use YYYY-MM-DD", b.AsOf)
		}
	}
	return r, nil
}

// object reads one JSON object's members with their names as written,
// refusing anything else, trailing data and a name given twice.
func object(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("field %q appears twice", name)
		}
		fields[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("not one JSON object")
	}
	return fields, nil
}

// backfillNamed lists the members of fields named like a backfill field,
// in any case.
func backfillNamed(fields map[string]json.RawMessage) []string {
	var found []string
	for name := range fields {
		if slices.ContainsFunc(backfillFields, func(f string) bool { return strings.EqualFold(f, name) }) {
			found = append(found, strconv.Quote(name))
		}
	}
	slices.Sort(found)
	return found
}
