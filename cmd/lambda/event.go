package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// request is what an event asks for: the default window (zero From/To) or
// a backfill.
type request struct {
	From, To  billing.Period
	Providers []string
	AsOf      string // "YYYY-MM-DD", checked; "": today
	// AcceptUnreconciled: see invoiceexport.Options.AcceptUnreconciled.
	AcceptUnreconciled bool
	// ListUnits asks for the (provider, account) units a run would export,
	// with their windows, instead of a run (the state machine's first step).
	ListUnits bool
	// Account, with one provider in Providers: export only that account
	// (the state machine's per-account invocation).
	Account string
}

// accepted says what an event may be, for every refusal.
func accepted() string {
	return `send the scheduler's {"detail-type":"Scheduled Event"}, a backfill {"from":"YYYY-MM","to":"YYYY-MM","providers":["` +
		strings.Join(registry.Slugs(), `","`) + `"],"as_of":"YYYY-MM-DD","accept_unreconciled":false} (every field optional), ` +
		`{"list_units":true}, or one account's {"provider":"...","account":"...","from":"YYYY-MM","to":"YYYY-MM","as_of":"YYYY-MM-DD"}`
}

// backfillEvent is the backfill event. Its names are matched exactly (as
// go-json-experiment/json does): "FROM" or "From" is an unknown member,
// never silently the range.
type backfillEvent struct {
	From      string   `json:"from"`
	To        string   `json:"to"`
	Providers []string `json:"providers"`
	AsOf      string   `json:"as_of"`
	// Accept lets a closed month that no longer reconciles replace the
	// one that did (cmd/local: --accept-unreconciled).
	Accept bool `json:"accept_unreconciled"`
	// ListUnits and Provider/Account: the Step Functions fan-out's events
	// (docs/accounts.md).
	ListUnits bool   `json:"list_units"`
	Provider  string `json:"provider"`
	Account   string `json:"account"`
}

var backfillFields = []string{"from", "to", "providers", "as_of", "accept_unreconciled", "list_units", "provider", "account"}

// scheduleConflicts are the fields a "Scheduled Event" must not carry: a
// backfill's. (Its own "account" is the AWS account: not one of ours.)
var scheduleConflicts = []string{"from", "to", "providers", "as_of", "accept_unreconciled", "list_units"}

// parseEvent reads the EventBridge "Scheduled Event" payload (the default
// window) or a backfill object (README: "Run it once now"); anything else
// is refused, so a mistyped backfill never silently runs the default
// window. The decoder refuses what is not one JSON object: invalid JSON, a
// name given twice, trailing data.
func parseEvent(raw []byte) (request, error) {
	var r request
	var fields map[string]jsontext.Value
	if err := json.Unmarshal(raw, &fields); err != nil {
		return r, fmt.Errorf("event not understood (%s): %s", why(err), accepted())
	}
	if dt, ok := fields["detail-type"]; ok {
		var s string
		if json.Unmarshal(dt, &s) == nil && s == "Scheduled Event" {
			// The schedule's payload means the default window: a backfill
			// field in it (or in its detail) would be silently ignored.
			found := backfillNamed(fields)
			var detail map[string]jsontext.Value
			if json.Unmarshal(fields["detail"], &detail) == nil {
				found = append(found, backfillNamed(detail)...)
			}
			if len(found) > 0 {
				return r, fmt.Errorf("event: a \"Scheduled Event\" means the default window and takes no backfill field, but it carries %s: "+
					"for a backfill send only {\"from\":\"YYYY-MM\",\"to\":\"YYYY-MM\",\"providers\":[...],\"as_of\":\"YYYY-MM-DD\",\"accept_unreconciled\":false}", strings.Join(found, ", "))
			}
			r.Providers = registry.Slugs()
			return r, nil
		}
	}
	var b backfillEvent
	if err := json.Unmarshal(raw, &b, json.RejectUnknownMembers(true)); err != nil {
		return r, fmt.Errorf("event not understood (%s): %s", why(err), accepted())
	}
	var err error
	if b.From != "" {
		if r.From, err = billing.ParsePeriod(b.From); err != nil {
			return r, fmt.Errorf("event: from: %v", err)
		}
	}
	if b.To != "" {
		if r.To, err = billing.ParsePeriod(b.To); err != nil {
			return r, fmt.Errorf("event: to: %v", err)
		}
	}
	switch {
	case b.ListUnits && (b.Provider != "" || b.Account != ""):
		return r, errors.New(`event: list_units lists every account: it takes no provider or account`)
	case (b.Provider != "") != (b.Account != ""):
		return r, errors.New(`event: one account's export names both "provider" and "account"`)
	case b.Provider != "" && len(b.Providers) > 0:
		return r, errors.New(`event: "provider" (one account's export) and "providers" exclude each other`)
	}
	if b.Provider != "" {
		b.Providers = []string{b.Provider}
		r.Account = b.Account
	}
	r.ListUnits = b.ListUnits
	if r.Providers, err = invoiceexport.ParseProviders(strings.Join(b.Providers, ",")); err != nil {
		return r, fmt.Errorf("event: providers: %v", err)
	}
	r.AcceptUnreconciled = b.Accept
	if b.AsOf != "" {
		if _, err := invoiceexport.AsOf(b.AsOf, time.Time{}); err != nil {
			return r, fmt.Errorf("event: as_of %v", err)
		}
		r.AsOf = b.AsOf
	}
	return r, nil
}

// why says in a few words what the decoder refused.
func why(err error) string {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, json.ErrUnknownName):
		name := se.JSONPointer.LastToken()
		s := fmt.Sprintf("unknown field %q", quote(name))
		if i := slices.IndexFunc(backfillFields, func(f string) bool { return strings.EqualFold(f, name) }); i >= 0 {
			s += fmt.Sprintf(" (field names are matched exactly: write %q)", backfillFields[i])
		}
		return s
	case errors.As(err, &se) && se.JSONPointer != "":
		return fmt.Sprintf("%s: expected %s, found %s", quote(strings.TrimPrefix(string(se.JSONPointer), "/")), want(se), billing.KindName(se.JSONKind))
	case errors.As(err, &se):
		return "not a JSON object"
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("field %q appears twice", quote(syn.JSONPointer.LastToken()))
	case errors.As(err, &syn):
		return quote(strings.TrimPrefix(syn.Err.Error(), "jsontext: "))
	}
	return quote(err.Error())
}

// quote is what a message may show of the event: at most
// billing.MaxExcerpt bytes of any of it (a field may be megabytes long).
func quote(s string) string { return billing.Excerpt([]byte(s), nil) }

// want names the kind of value a backfill field takes.
func want(se *json.SemanticError) string {
	switch {
	case se.GoType != nil && se.GoType.Kind().String() == "slice":
		return "an array of strings"
	case se.GoType != nil && se.GoType.Kind().String() == "bool":
		return "true or false"
	}
	return "a string"
}

// backfillNamed lists the members of fields named like a backfill field,
// in any case.
func backfillNamed(fields map[string]jsontext.Value) []string {
	var found []string
	for name := range fields {
		if slices.ContainsFunc(scheduleConflicts, func(f string) bool { return strings.EqualFold(f, name) }) {
			found = append(found, strconv.Quote(name))
		}
	}
	slices.Sort(found)
	return found
}
