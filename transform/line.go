package transform

import (
	"strconv"
	"time"
)

// Line is one charge line: FOCUS 1.2 columns, then our own (x_ in the
// output). For every string field the empty string means NULL: FOCUS forbids
// empty strings, so a vendor's "" becomes NULL as well.
type Line struct {
	BilledCost                   Decimal
	BillingAccountID             string
	BillingAccountName           string
	BillingCurrency              string
	BillingPeriodStart           time.Time
	BillingPeriodEnd             time.Time
	ChargeCategory               string
	ChargeClass                  string
	ChargeDescription            string
	ChargeFrequency              string
	ChargePeriodStart            time.Time
	ChargePeriodEnd              time.Time
	ConsumedQuantity             NullDecimal
	ConsumedUnit                 string
	ContractedCost               Decimal
	EffectiveCost                Decimal
	InvoiceID                    string
	InvoiceIssuerName            string
	ListCost                     Decimal
	PricingCurrency              string
	PricingCurrencyEffectiveCost NullDecimal
	PricingQuantity              NullDecimal
	PricingUnit                  string
	ProviderName                 string
	PublisherName                string
	RegionID                     string
	RegionName                   string
	ResourceID                   string
	ResourceName                 string
	ResourceType                 string
	ServiceCategory              string
	ServiceName                  string
	ServiceSubcategory           string
	SkuID                        string
	SkuMeter                     string
	SubAccountID                 string
	SubAccountName               string
	Tags                         string // JSON object text

	ChargeID        string      // x_ChargeId: the line's natural key (ChargeIDs), never empty
	Provider        string      // x_Provider: the provider slug
	TenantID        string      // x_TenantId
	VendorUnitPrice NullDecimal // x_VendorUnitPrice: the vendor's unit price, verbatim
	Regions         string      // x_Regions: JSON array of every region of the resource
	CloudProvider   string      // x_CloudProvider: where the vendor runs the resource
	Plan            string      // x_Plan: the vendor's plan or tier of the resource
	SourceEndpoint  string      // x_SourceEndpoint: the call the line comes from
}

// VirtualAmount is what a line priced in a virtual currency (CockroachDB's
// credits) costs in it: its BilledCost is 0 in the national
// BillingCurrency, so totals per currency count PricingCurrencyEffectiveCost
// under the PricingCurrency as well. ok is false for other lines.
func (l *Line) VirtualAmount() (currency string, amount Decimal, ok bool) {
	if c := l.PricingCurrency; c != "" && c != l.BillingCurrency && l.PricingCurrencyEffectiveCost.Valid {
		return c, l.PricingCurrencyEffectiveCost.Decimal, true
	}
	return "", Decimal{}, false
}

// IsNationalCurrency tells an ISO 4217 code (USD: three capital letters)
// from a provider's virtual currency (CRDB_CLOUD_CREDITS).
func IsNationalCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// FOCUS values we use (FOCUS 1.2 allowed values).
const (
	Usage      = "Usage"
	Purchase   = "Purchase"
	Credit     = "Credit"
	Adjustment = "Adjustment"
	Tax        = "Tax"

	UsageBased = "Usage-Based"
	OneTime    = "One-Time"
	Recurring  = "Recurring"
)

// Invoice is one row of the invoices table: one invoice (or, where the
// vendor issues no invoice id, one account and period) in one currency, with
// the vendor's total and what the exported lines add up to.
type Invoice struct {
	Provider           string
	InvoiceID          string // empty (NULL) where the vendor has no invoice id
	BillingAccountID   string
	BillingAccountName string
	BillingPeriodStart time.Time
	BillingPeriodEnd   time.Time
	Status             string // the vendor's word: pending/final, DRAFT/FINALIZED, Paid, ...
	Final              bool   // the vendor will not change this invoice any more
	Currency           string
	VendorTotal        Decimal
	LinesTotal         Decimal // Σ of the exported lines in Currency, rounding adjustment included
	RoundingAdjustment Decimal // the adjustment line we added (0 when none)
	Difference         Decimal // VendorTotal − LinesTotal: 0 when reconciled
	Reconciled         bool
	Lines              int64
	Problem            string // why it does not reconcile; empty when it does
	SourceEndpoint     string
}

// ChargeIDs gives lines distinct ids from their natural keys (for
// x_ChargeId): the first line with a key gets the key itself, the n-th the
// key and "#n". A repeat is what a vendor plausibly sends (the same product
// twice for one cluster after a price change, a line item per region that
// names no region), and the same input repeats in the same order, so the
// ids are the same on every run. Its memory is the keys it has seen, so
// it is for the few lines of an invoice (CockroachDB's, Spectro Cloud's);
// WarpStream's millions of daily lines count their days instead.
type ChargeIDs map[string]int

// Next is the id of the next line with key.
func (c ChargeIDs) Next(key string) string {
	n := c[key] + 1
	c[key] = n
	if n == 1 {
		return key
	}
	return key + "#" + strconv.Itoa(n)
}
