package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Spectro Cloud Palette (REFERENCE §2): the tenant uid comes from
// SPECTROCLOUD_TENANT_UID or GET /v1/users/info; the tenant's invoices from
// the invoice list, page by page (listmeta.continue), then one GET per
// invoice whose billing period is planned.
//
// The list route is not in the public API spec (only its response schema
// is). Where it answers 404 (live) or has no capture (replay), the invoice
// UIDs come from SPECTROCLOUD_INVOICE_UIDS: each of those invoices is
// fetched while listing, to learn its billing period, and handed to its
// period's Job as a Shared body. List pages are captured as
// spectrocloud/invoices/<n>.json, n = 0001, 0002, ... (our addition to the
// capture layout).
type spectroCloud struct{ cfg SpectroCloudConfig }

// The vendor's operation ids (the list has none published; ours says what it does).
const (
	SpectroUsersInfo    = "v1UsersInfoGet"
	SpectroListInvoices = "v1InvoicesList"
	SpectroGetInvoice   = "v1InvoicesUidGet"
)

// maxPages bounds pagination: 50 invoices a page, one invoice a month.
const maxPages = 9999

func (spectroCloud) Provider() string { return SpectroCloud }

func (s spectroCloud) Jobs(ctx context.Context, src Source, plan Plan) (jobs []Job, err error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	var shared []*Body // every job's
	var own []*Body    // one job's (fallback invoices)
	defer func() {
		if err != nil {
			for _, b := range append(shared, own...) {
				b.Close()
			}
		}
	}()

	tenant := s.cfg.TenantUID
	if tenant == "" {
		info, err := src.Fetch(ctx, s.call(SpectroUsersInfo, "/v1/users/info", "users_info.json"))
		if err != nil {
			return nil, fmt.Errorf("reading the tenant uid (set SPECTROCLOUD_TENANT_UID to skip this call): %w", err)
		}
		shared = append(shared, info)
		if tenant, err = tenantOf(info); err != nil {
			return nil, err
		}
	}
	if err := checkID(SpectroCloud, "tenant uid", tenant); err != nil {
		return nil, err
	}
	jobs = make([]Job, len(plan.Periods))
	for i, p := range plan.Periods {
		jobs[i] = Job{Provider: SpectroCloud, Period: p, Account: tenant}
	}
	job := func(p Period) *Job {
		for i := range jobs {
			if jobs[i].Period == p {
				return &jobs[i]
			}
		}
		return nil
	}

	pages, listed, err := s.list(ctx, src, tenant)
	shared = append(shared, pages...)
	switch {
	case errors.Is(err, ErrNotFound) && len(pages) == 0:
		if len(s.cfg.InvoiceUIDs) == 0 {
			return nil, fmt.Errorf("the invoice list is not available and SPECTROCLOUD_INVOICE_UIDS is not set: set it to the UIDs of the invoices to export, comma-separated (the list: %v)", err)
		}
		for _, uid := range s.cfg.InvoiceUIDs {
			if err := checkID(SpectroCloud, "invoice uid in SPECTROCLOUD_INVOICE_UIDS", uid); err != nil {
				return nil, err
			}
		}
		for _, uid := range s.cfg.InvoiceUIDs {
			b, err := src.Fetch(ctx, s.invoiceCall(tenant, uid))
			if err != nil {
				return nil, fmt.Errorf("invoice %s of SPECTROCLOUD_INVOICE_UIDS: %w", uid, err)
			}
			var inv spectroListed
			if err := decodeSmall(b, "the invoice is not what the API documents", &inv); err != nil {
				b.Close()
				return nil, err
			}
			p, err := inv.period(b.Call)
			if err != nil {
				b.Close()
				return nil, err
			}
			if j := job(p); j != nil {
				own = append(own, b)
				j.Shared = append(j.Shared, b)
			} else {
				b.Close()
			}
		}
	case err != nil:
		return nil, err
	default:
		seen := map[string]bool{}
		for _, l := range listed {
			uid := l.Metadata.UID
			if seen[uid] {
				continue // an invoice that moved between pages while we read them
			}
			seen[uid] = true
			if j := job(l.p); j != nil {
				j.Calls = append(j.Calls, s.invoiceCall(tenant, uid))
			}
		}
	}
	for i := range jobs {
		// Shared first: users/info and list pages, then the job's own.
		jobs[i].Shared = append(append([]*Body(nil), shared...), jobs[i].Shared...)
	}
	return jobs, nil
}

// spectroListed is what listing needs of a v1Invoice.
type spectroListed struct {
	Metadata struct {
		UID string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		BillingPeriod struct {
			Start time.Time `json:"start"`
		} `json:"billingPeriod"`
		Month time.Time `json:"month"`
	} `json:"spec"`
	p Period
}

// period is the invoice's billing month: from spec.billingPeriod.start,
// else spec.month (0001-01-01T00:00:00Z, Go's zero time, means unset).
func (l *spectroListed) period(c Call) (Period, error) {
	t := l.Spec.BillingPeriod.Start
	if t.IsZero() {
		t = l.Spec.Month
	}
	if t.IsZero() {
		return Period{}, fmt.Errorf("%s: invoice %q has neither spec.billingPeriod.start nor spec.month", c, l.Metadata.UID)
	}
	return PeriodOf(t), nil
}

// list reads every page of the tenant's invoices. It returns the pages read
// (to be closed by the caller) and an error wrapping ErrNotFound when the
// first page does not exist.
func (s spectroCloud) list(ctx context.Context, src Source, tenant string) ([]*Body, []spectroListed, error) {
	var pages []*Body
	var listed []spectroListed
	tokens := map[string]bool{}
	next := ""
	for n := 1; ; n++ {
		if n > maxPages {
			return pages, nil, fmt.Errorf("spectrocloud: the invoice list goes on for more than %d pages", maxPages)
		}
		path := "/v1/tenants/" + tenant + "/invoices"
		if next != "" {
			path += "?" + url.Values{"continue": {next}}.Encode()
		}
		b, err := src.Fetch(ctx, s.call(SpectroListInvoices, path, fmt.Sprintf("invoices/%04d.json", n)))
		if err != nil {
			return pages, nil, err
		}
		pages = append(pages, b)
		var page struct {
			Invoices []spectroListed `json:"invoices"`
			ListMeta struct {
				Continue string `json:"continue"`
			} `json:"listmeta"`
		}
		if err := decodeSmall(b, "the invoice list is not what the API documents", &page); err != nil {
			return pages, nil, err
		}
		for _, l := range page.Invoices {
			if err := checkID(SpectroCloud, "invoice uid", l.Metadata.UID); err != nil {
				return pages, nil, fmt.Errorf("%s: %w", b.Call, err)
			}
			if l.p, err = l.period(b.Call); err != nil {
				return pages, nil, err
			}
			listed = append(listed, l)
		}
		next = page.ListMeta.Continue
		if next == "" {
			return pages, listed, nil
		}
		if tokens[next] {
			return pages, nil, fmt.Errorf("%s: listmeta.continue repeats an earlier token: the list would never end", b.Call)
		}
		tokens[next] = true
	}
}

// tenantOf reads tenantUid from a users/info response.
func tenantOf(b *Body) (string, error) {
	var info struct {
		TenantUID string `json:"tenantUid"`
	}
	if err := decodeSmall(b, "not what the API documents", &info); err != nil {
		return "", err
	}
	if info.TenantUID == "" {
		return "", fmt.Errorf("%s: the response has no tenantUid: set SPECTROCLOUD_TENANT_UID", b.Call)
	}
	return info.TenantUID, nil
}

func (s spectroCloud) invoiceCall(tenant, uid string) Call {
	return s.call(SpectroGetInvoice, "/v1/tenants/"+tenant+"/invoices/"+uid, "invoice/"+uid+".json")
}

func (spectroCloud) call(endpoint, path, capture string) Call {
	return Call{Provider: SpectroCloud, Endpoint: endpoint, Method: "GET", Path: path, Capture: SpectroCloud + "/" + capture}
}

// DataError is bad data in a vendor's response: it names the body (vendor,
// endpoint, capture path) and the position, so the fix can start there.
// transform's streaming decoders report the same type (transform.DataError
// is this one), so every bad-data message reads alike.
type DataError struct {
	Source  string // e.g. "cockroachdb ListInvoices (cockroachdb/invoices.json)"
	Offset  int64  // byte offset in the body
	Pointer string // JSON pointer of the value, e.g. /invoices/0/period_start
	Msg     string
}

func (e *DataError) Error() string {
	where := fmt.Sprintf("byte %d", e.Offset)
	if e.Pointer != "" {
		where += ", " + e.Pointer
	}
	return fmt.Sprintf("%s: bad data at %s: %s", e.Source, where, e.Msg)
}

// decodeSmall decodes a small response body (a list page, users/info, an
// invoice read while listing) whole into v, a pointer to a struct whose
// json tags name the fields listing needs (strings, time.Time, structs and
// slices of them); other members are skipped, null leaves a field unset.
// It reads with jsontext, the tokenizer transform's decoders use, so the
// same inputs are refused (invalid JSON, duplicate names, invalid UTF-8,
// data after the value), and a failure is a DataError with the byte offset
// and JSON pointer of the offending value; what says what the body should
// have been.
func decodeSmall(b *Body, what string, v any) error {
	data, err := io.ReadAll(b.Reader())
	if err != nil {
		return fmt.Errorf("%s: reading the body: %w", b.Call, err)
	}
	d := &smallDecoder{data: data, dec: jsontext.NewDecoder(bytes.NewReader(data))}
	if len(bytes.TrimSpace(data)) == 0 {
		err = &DataError{Msg: "the body is empty (an empty response or capture)"}
	} else if err = d.value(reflect.ValueOf(v).Elem(), ""); err == nil {
		if d.dec.PeekKind() != 0 {
			err = d.errorf("", "unexpected data after the top-level object")
		} else if _, err = d.dec.ReadToken(); err == io.EOF {
			return nil
		}
	}
	var de *DataError
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, &de):
	case errors.As(err, &se):
		de = &DataError{Offset: se.ByteOffset, Pointer: string(se.JSONPointer), Msg: se.Err.Error()}
		switch {
		case errors.Is(se.Err, io.ErrUnexpectedEOF):
			de.Msg = "the body ends in the middle of a value (truncated response or capture)"
		case se.ByteOffset == 0:
			de.Msg += " (the body is not JSON: an HTML error page?)"
		}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		de = &DataError{Offset: int64(len(data)), Msg: "the body ends in the middle of a value (truncated response or capture)"}
	default:
		return fmt.Errorf("%s: %s: %w", b.Call, what, err)
	}
	de.Source, de.Msg = b.Call.String(), what+": "+de.Msg
	return de
}

// smallDecoder fills Go values from a jsontext stream, keeping the JSON
// pointer of the value at hand for messages.
type smallDecoder struct {
	data []byte
	dec  *jsontext.Decoder
}

var timeType = reflect.TypeFor[time.Time]()

// errorf is bad data in the value that starts next (at ptr).
func (d *smallDecoder) errorf(ptr, format string, args ...any) error {
	off := d.dec.InputOffset()
	for off < int64(len(d.data)) && strings.IndexByte(" \t\r\n:,", d.data[off]) >= 0 {
		off++ // to the value's first byte
	}
	return &DataError{Offset: off, Pointer: ptr, Msg: fmt.Sprintf(format, args...)}
}

func (d *smallDecoder) value(v reflect.Value, ptr string) error {
	k := d.dec.PeekKind()
	if k == 0 {
		_, err := d.dec.ReadToken()
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	want := byte('{')
	switch {
	case v.Type() == timeType || v.Kind() == reflect.String:
		want = '"'
	case v.Kind() == reflect.Slice:
		want = '['
	case v.Kind() != reflect.Struct:
		return fmt.Errorf("decodeSmall: cannot decode into %s", v.Type())
	}
	if k == 'n' {
		_, err := d.dec.ReadToken()
		return err // null: unset
	}
	if byte(k) != want {
		return d.errorf(ptr, "expected %s, found %s", jsonKindName(jsontext.Kind(want)), jsonKindName(k))
	}
	start := d.errorf(ptr, "") // the value's position, should it not parse
	tok, err := d.dec.ReadToken()
	if err != nil {
		return err
	}
	switch {
	case v.Type() == timeType:
		t, err := time.Parse(time.RFC3339Nano, tok.String())
		if err != nil {
			start.(*DataError).Msg = fmt.Sprintf("expected an RFC 3339 date-time, found %q", tok.String())
			return start
		}
		v.Set(reflect.ValueOf(t))
	case v.Kind() == reflect.String:
		v.SetString(tok.String())
	case v.Kind() == reflect.Slice:
		for i := 0; d.dec.PeekKind() != ']'; i++ {
			if d.dec.PeekKind() == 0 {
				return d.value(v, ptr) // reports the error
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.value(e, ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
			v.Set(reflect.Append(v, e))
		}
		_, err = d.dec.ReadToken()
		return err
	default: // struct
		for d.dec.PeekKind() != '}' {
			if d.dec.PeekKind() == 0 {
				return d.value(v, ptr)
			}
			name, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			f, ok := fieldByTag(v, name.String())
			if !ok {
				if err := d.dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			if err := d.value(f, ptr+"/"+jsonPointerToken(name.String())); err != nil {
				return err
			}
		}
		_, err = d.dec.ReadToken()
		return err
	}
	return nil
}

// fieldByTag finds the field of struct v whose json tag names name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name && t.Field(i).IsExported() {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// jsonPointerToken escapes a member name for a JSON pointer (RFC 6901).
func jsonPointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// jsonKindName is how a JSON kind reads in a message.
func jsonKindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "nothing"
}
