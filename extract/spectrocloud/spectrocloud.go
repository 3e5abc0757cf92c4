// Package spectrocloud is Spectro Cloud Palette's billing API: the tenant
// uid comes from SPECTROCLOUD_TENANT_UID or GET /v1/users/info; the
// tenant's invoices from the invoice list, page by page
// (listmeta.continue), then one GET per invoice whose billing period is
// planned (docs/vendors.md).
//
// The list route is in no published API spec (only its response schema,
// v1Invoices, is). Where it answers 404 or 405 (live) or has no capture
// (replay), the invoice UIDs come from SPECTROCLOUD_INVOICE_UIDS: each of
// those invoices is fetched while listing, to learn its billing period,
// and handed to its period's Job as a Shared body. A 200 that is not a
// list of invoices (no "invoices" array, items that are not invoices) is
// never read as "no invoice": the configured UIDs are used when set, and
// the provider fails otherwise. List pages are captured as
// spectrocloud/invoices/<n>.json, n = 0001, 0002, ... (our addition to the
// capture layout).
package spectrocloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
)

// Slug names Spectro Cloud in partition paths, --providers and x_Provider.
const Slug = "spectrocloud"

// The calls, by the API's operation ids (the list has none published;
// ours says what it does).
const (
	UsersInfo    = "v1UsersInfoGet"
	ListInvoices = "v1InvoicesList"
	GetInvoice   = "v1InvoicesUidGet"
)

// Settings are Spectro Cloud's configuration (SPECTROCLOUD_*).
var Settings = []extract.Setting{
	extract.APIKey,
	extract.BaseURL("https://api.spectrocloud.com"),
	{Name: "TENANT_UID", Doc: "the tenant whose invoices are exported; spares the GET /v1/users/info that finds it"},
	{Name: "INVOICE_UIDS", Check: checkUIDs,
		Doc: "the invoices to export (their `metadata.uid`), comma-separated, where the invoice list route, which is in no published spec, answers 404 or 405 or answers with no list of invoices; see Spectro Cloud below for how to find them"},
}

// listRoute is the invoice list route as messages name it.
const listRoute = "GET /v1/tenants/{tenantUid}/invoices"

// findUIDs says how to find invoice uids without the list route.
const findUIDs = "an invoice's uid is its metadata.uid: the Palette console's billing page loads each invoice it shows from /v1/tenants/{tenantUid}/invoices/{invoiceUid}, so the browser's developer tools (Network) show the uids; or ask Spectro Cloud support"

// notAList is a 200 answer of the list route that is not a list of
// invoices.
type notAList struct {
	call extract.Call
	why  string
}

func (e *notAList) Error() string {
	return fmt.Sprintf("%s: %s answered 200 with no list of invoices: %s", e.call, listRoute, e.why)
}

// Authorize sends the key in the ApiKey header.
func Authorize(c extract.Config, next http.RoundTripper) http.RoundTripper {
	return extract.WithHeaders(next, map[string]string{"ApiKey": c.Secret("API_KEY").Reveal()})
}

// Jobs finds the tenant and lists its invoices, then makes one job per
// period with a call per invoice of that period.
func Jobs(ctx context.Context, c extract.Config, src extract.Source, plan extract.Plan) (jobs []extract.Job, err error) {
	if len(plan.Periods) == 0 {
		return nil, nil
	}
	var shared []*extract.Body // every job's
	var own []*extract.Body    // one job's (fallback invoices)
	defer func() {
		if err != nil {
			for _, b := range append(shared, own...) {
				b.Close()
			}
		}
	}()

	tenant := c.Value("TENANT_UID")
	if tenant == "" {
		info, err := src.Fetch(ctx, call(UsersInfo, extract.Path("v1", "users", "info"), "users_info.json"))
		if err != nil {
			return nil, fmt.Errorf("reading the tenant uid (set SPECTROCLOUD_TENANT_UID to skip this call): %w", err)
		}
		shared = append(shared, info)
		if tenant, err = tenantOf(info); err != nil {
			return nil, err
		}
	}
	if err := extract.CheckID(Slug, "tenant uid", tenant); err != nil {
		return nil, err
	}
	jobs = make([]extract.Job, len(plan.Periods))
	for i, p := range plan.Periods {
		jobs[i] = extract.Job{Provider: Slug, Period: p, Account: tenant}
	}
	job := func(p billing.Period) *extract.Job {
		for i := range jobs {
			if jobs[i].Period == p {
				return &jobs[i]
			}
		}
		return nil
	}

	uids := invoiceUIDs(c)
	pages, invoices, err := list(ctx, src, tenant)
	switch {
	case err == nil:
		shared = append(shared, pages...)
		seen := map[string]bool{}
		for _, l := range invoices {
			uid := l.Metadata.UID
			if seen[uid] {
				continue // an invoice that moved between pages while we read them
			}
			seen[uid] = true
			if j := job(l.p); j != nil {
				j.Calls = append(j.Calls, invoiceCall(tenant, uid))
			}
		}
	case noRoute(err) && len(pages) == 0, isNotAList(err):
		// The pages of an answer that is not a list are left out of the
		// jobs: the transform notes that the configured invoices were
		// exported (the recorder has kept them as sent).
		for _, b := range pages {
			b.Close()
		}
		v := c.Var("INVOICE_UIDS")
		switch {
		case len(uids) > 0:
		case isNotAList(err):
			return nil, fmt.Errorf("%w; the route is in no published Palette spec: set %s to the uids of the invoices to export, comma-separated (%s)", err, v, findUIDs)
		default:
			return nil, fmt.Errorf("the invoice list route (%s, in no published Palette spec) %s and %s is not set: set it to the uids of the invoices to export, comma-separated (%s)", listRoute, unavailable(err), v, findUIDs)
		}
		for _, uid := range uids {
			b, err := src.Fetch(ctx, invoiceCall(tenant, uid))
			if err != nil {
				return nil, fmt.Errorf("invoice %s of SPECTROCLOUD_INVOICE_UIDS: %w", uid, err)
			}
			var inv listed
			if err := extract.DecodeSmall(b, "the invoice is not what the API documents", &inv); err != nil {
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
	default:
		shared = append(shared, pages...)
		return nil, err
	}
	for i := range jobs {
		// Shared first: users/info and list pages, then the job's own.
		jobs[i].Shared = append(append([]*extract.Body(nil), shared...), jobs[i].Shared...)
	}
	return jobs, nil
}

func isNotAList(err error) bool {
	_, ok := errors.AsType[*notAList](err)
	return ok
}

// noRoute tells an answer meaning the list route does not exist: 404 or
// 405 (live), or no capture (replay).
func noRoute(err error) bool {
	return errors.Is(err, extract.ErrNotFound) || extract.Status(err) == http.StatusMethodNotAllowed
}

// unavailable says how the list route was found missing, for messages.
func unavailable(err error) string {
	if code := extract.Status(err); code != 0 {
		return fmt.Sprintf("answered HTTP %d", code)
	}
	return "has no capture (spectrocloud/invoices/0001.json)"
}

// listed is what listing needs of a v1Invoice.
type listed struct {
	Metadata struct {
		UID string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		BillingPeriod struct {
			Start time.Time `json:"start"`
		} `json:"billingPeriod"`
		Month time.Time `json:"month"`
	} `json:"spec"`
	p billing.Period
}

// period is the invoice's billing month: from spec.billingPeriod.start,
// else spec.month (0001-01-01T00:00:00Z, Go's zero time, means unset).
func (l *listed) period(c extract.Call) (billing.Period, error) {
	t := l.Spec.BillingPeriod.Start
	if t.IsZero() {
		t = l.Spec.Month
	}
	if t.IsZero() {
		return billing.Period{}, fmt.Errorf("%s: invoice %q has neither spec.billingPeriod.start nor spec.month", c, l.Metadata.UID)
	}
	return billing.PeriodOf(t), nil
}

// list reads every page of the tenant's invoices. It returns the first
// page (to be closed by the caller: the transform learns from it that the
// list answered) and an error wrapping ErrNotFound when the first page does
// not exist. Every later page is closed once read, so a list of any length
// holds one file open; it may not go on past extract.MaxListPages nor
// name more than extract.MaxListed invoices.
func list(ctx context.Context, src extract.Source, tenant string) ([]*extract.Body, []listed, error) {
	var pages []*extract.Body
	var all []listed
	tokens := map[string]bool{}
	next := ""
	for n := 1; ; n++ {
		if n > extract.MaxListPages {
			return pages, nil, fmt.Errorf("spectrocloud %s: the invoice list goes on past %d pages (listmeta.continue is still set): a tenant has one invoice a month, so the list does not end; nothing of it is exported", ListInvoices, extract.MaxListPages)
		}
		path := extract.Path("v1", "tenants", tenant, "invoices")
		if next != "" {
			path += "?" + url.Values{"continue": {next}}.Encode()
		}
		b, err := src.Fetch(ctx, call(ListInvoices, path, fmt.Sprintf("invoices/%04d.json", n)))
		if err != nil {
			return pages, nil, err
		}
		if n == 1 {
			pages = append(pages, b)
		}
		items, next2, err := decodePage(b)
		if n > 1 {
			b.Close()
		}
		if err != nil {
			return pages, nil, err
		}
		all = append(all, items...)
		if len(all) > extract.MaxListed {
			return pages, nil, fmt.Errorf("%s: the invoice list names more than %d invoices: a tenant has one invoice a month, so the list is not one to follow; nothing of it is exported", b.Call, extract.MaxListed)
		}
		next = next2
		if next == "" {
			return pages, all, nil
		}
		if tokens[next] {
			return pages, nil, fmt.Errorf("%s: listmeta.continue repeats an earlier token: the list would never end", b.Call)
		}
		tokens[next] = true
	}
}

// decodePage reads one list page: its invoices and the continue token. A
// body that is not JSON, or cut short, is bad data like any other; a
// page without the "invoices" array of v1Invoices, or whose items are not
// invoices (no uid, no billing month), is a notAList.
func decodePage(b *extract.Body) ([]listed, string, error) {
	var page struct {
		Invoices jsontext.Value `json:"invoices"`
		ListMeta struct {
			Continue string `json:"continue"`
		} `json:"listmeta"`
	}
	if err := extract.DecodeSmall(b, "the invoice list is not what the API documents", &page); err != nil {
		return nil, "", err
	}
	notAList := func(format string, args ...any) error {
		return &notAList{b.Call, fmt.Sprintf(format, args...)}
	}
	var raw []jsontext.Value
	switch page.Invoices.Kind() {
	case 0:
		var members map[string]jsontext.Value
		extract.DecodeSmall(b, "", &members) // valid JSON: read already
		names := slices.Sorted(maps.Keys(members))
		if len(names) == 0 {
			return nil, "", notAList(`it has no "invoices" array, nor anything else`)
		}
		return nil, "", notAList(`it has no "invoices" array (its members: %s)`, strings.Join(names, ", "))
	case 'n': // a nil Go slice: no invoice
	case '[':
		if err := json.Unmarshal(page.Invoices, &raw); err != nil {
			return nil, "", notAList(`its "invoices" holds something else than objects (%v)`, err)
		}
	default:
		return nil, "", notAList(`its "invoices" is not an array`)
	}
	items := make([]listed, 0, len(raw))
	for i, v := range raw {
		var l listed
		if err := json.Unmarshal(v, &l); err != nil {
			return nil, "", notAList("item %d of its \"invoices\" is not an invoice (%v)", i, err)
		}
		if l.Metadata.UID == "" {
			return nil, "", notAList("item %d of its \"invoices\" has no metadata.uid", i)
		}
		if err := extract.CheckID(Slug, "invoice uid", l.Metadata.UID); err != nil {
			return nil, "", fmt.Errorf("%s: %w", b.Call, err)
		}
		var err error
		if l.p, err = l.period(b.Call); err != nil {
			return nil, "", notAList("invoice %s has no billing month", l.Metadata.UID)
		}
		items = append(items, l)
	}
	return items, page.ListMeta.Continue, nil
}

// tenantOf reads tenantUid from a users/info response.
func tenantOf(b *extract.Body) (string, error) {
	var info struct {
		TenantUID string `json:"tenantUid"`
	}
	if err := extract.DecodeSmall(b, "not what the API documents", &info); err != nil {
		return "", err
	}
	if info.TenantUID == "" {
		return "", fmt.Errorf("%s: the response has no tenantUid: set SPECTROCLOUD_TENANT_UID", b.Call)
	}
	return info.TenantUID, nil
}

func invoiceCall(tenant, uid string) extract.Call {
	return call(GetInvoice, extract.Path("v1", "tenants", tenant, "invoices", uid), "invoice/"+uid+".json")
}

func call(endpoint, path, capture string) extract.Call {
	return extract.Call{Provider: Slug, Endpoint: endpoint, Method: "GET", Path: path, Capture: Slug + "/" + capture}
}

// invoiceUIDs are the uids of SPECTROCLOUD_INVOICE_UIDS, as checkUIDs left them.
func invoiceUIDs(c extract.Config) []string {
	if v := c.Value("INVOICE_UIDS"); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// checkUIDs takes a comma-separated list of invoice uids, each a safe file
// name. A uid listed twice is one invoice: it is exported once (the
// transform refuses an invoice that appears twice in a period).
func checkUIDs(name, v string) (string, error) {
	var uids []string
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(uids, u) {
			if err := extract.CheckID(Slug, "invoice uid in "+name, u); err != nil {
				return "", err
			}
			uids = append(uids, u)
		}
	}
	return strings.Join(uids, ","), nil
}
