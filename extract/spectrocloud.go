package extract

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
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
	job := func(p billing.Period) *Job {
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
	p billing.Period
}

// period is the invoice's billing month: from spec.billingPeriod.start,
// else spec.month (0001-01-01T00:00:00Z, Go's zero time, means unset).
func (l *spectroListed) period(c Call) (billing.Period, error) {
	t := l.Spec.BillingPeriod.Start
	if t.IsZero() {
		t = l.Spec.Month
	}
	if t.IsZero() {
		return billing.Period{}, fmt.Errorf("%s: invoice %q has neither spec.billingPeriod.start nor spec.month", c, l.Metadata.UID)
	}
	return billing.PeriodOf(t), nil
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
