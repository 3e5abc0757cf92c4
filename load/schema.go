package load

import (
	"fmt"

	pq "github.com/parquet-go/parquet-go"

	"github.com/invoice-export/invoice-export/transform"
)

// SchemaVersion changes whenever a column is added, removed or retyped.
// 2: x_ChargeId (files of version 1 read it as NULL: readers union
// columns by name). 3: x_AccountId in both tables (the same).
const SchemaVersion = 3

// The row structs below are the single source of truth for both tables:
// their tags are the Parquet schema (names, order, types, nullability); the
// Glue tables in template.yaml and docs/schema.md are derived from them by
// internal/docgen (tests hold all three together). Strings are dictionary-encoded: they
// repeat on almost every line (x_ChargeId, unique per line, is not). Decimals are DECIMAL(38,24) in 16 bytes;
// times are INT64 TIMESTAMP(MICROS) adjusted to UTC.

type chargeRow struct {
	BilledCost                   [16]byte  `parquet:"BilledCost,decimal(24:38)"`
	BillingAccountID             string    `parquet:"BillingAccountId,dict"`
	BillingAccountName           *string   `parquet:"BillingAccountName,optional,dict"`
	BillingCurrency              string    `parquet:"BillingCurrency,dict"`
	BillingPeriodEnd             int64     `parquet:"BillingPeriodEnd,timestamp(microsecond)"`
	BillingPeriodStart           int64     `parquet:"BillingPeriodStart,timestamp(microsecond)"`
	ChargeCategory               string    `parquet:"ChargeCategory,dict"`
	ChargeClass                  *string   `parquet:"ChargeClass,optional,dict"`
	ChargeDescription            *string   `parquet:"ChargeDescription,optional,dict"`
	ChargeFrequency              string    `parquet:"ChargeFrequency,dict"`
	ChargePeriodEnd              int64     `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
	ChargePeriodStart            int64     `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ConsumedQuantity             *[16]byte `parquet:"ConsumedQuantity,decimal(24:38),optional"`
	ConsumedUnit                 *string   `parquet:"ConsumedUnit,optional,dict"`
	ContractedCost               [16]byte  `parquet:"ContractedCost,decimal(24:38)"`
	EffectiveCost                [16]byte  `parquet:"EffectiveCost,decimal(24:38)"`
	InvoiceID                    *string   `parquet:"InvoiceId,optional,dict"`
	InvoiceIssuerName            string    `parquet:"InvoiceIssuerName,dict"`
	ListCost                     [16]byte  `parquet:"ListCost,decimal(24:38)"`
	PricingCurrency              *string   `parquet:"PricingCurrency,optional,dict"`
	PricingCurrencyEffectiveCost *[16]byte `parquet:"PricingCurrencyEffectiveCost,decimal(24:38),optional"`
	PricingQuantity              *[16]byte `parquet:"PricingQuantity,decimal(24:38),optional"`
	PricingUnit                  *string   `parquet:"PricingUnit,optional,dict"`
	ProviderName                 string    `parquet:"ProviderName,dict"`
	PublisherName                string    `parquet:"PublisherName,dict"`
	RegionID                     *string   `parquet:"RegionId,optional,dict"`
	RegionName                   *string   `parquet:"RegionName,optional,dict"`
	ResourceID                   *string   `parquet:"ResourceId,optional,dict"`
	ResourceName                 *string   `parquet:"ResourceName,optional,dict"`
	ResourceType                 *string   `parquet:"ResourceType,optional,dict"`
	ServiceCategory              string    `parquet:"ServiceCategory,dict"`
	ServiceName                  string    `parquet:"ServiceName,dict"`
	ServiceSubcategory           string    `parquet:"ServiceSubcategory,dict"`
	SkuID                        *string   `parquet:"SkuId,optional,dict"`
	SkuMeter                     *string   `parquet:"SkuMeter,optional,dict"`
	SubAccountID                 *string   `parquet:"SubAccountId,optional,dict"`
	SubAccountName               *string   `parquet:"SubAccountName,optional,dict"`
	Tags                         *string   `parquet:"Tags,optional,dict"`
	XAccountID                   string    `parquet:"x_AccountId,dict"`
	XChargeID                    string    `parquet:"x_ChargeId"` // unique per line: no dictionary
	XCloudProvider               *string   `parquet:"x_CloudProvider,optional,dict"`
	XPlan                        *string   `parquet:"x_Plan,optional,dict"`
	XProvider                    string    `parquet:"x_Provider,dict"`
	XRegions                     *string   `parquet:"x_Regions,optional,dict"`
	XSourceEndpoint              string    `parquet:"x_SourceEndpoint,dict"`
	XTenantID                    *string   `parquet:"x_TenantId,optional,dict"`
	XVendorUnitPrice             *[16]byte `parquet:"x_VendorUnitPrice,decimal(24:38),optional"`
}

// scratch holds the values the nullable columns of one row point at, so
// that building a row allocates nothing. Nullable strings are pointers, not
// strings tagged optional: parquet-go v0.32.0 writes some zero strings of an
// optional column as "" instead of NULL (writeRowsFuncOfOptional); its
// pointer path is right (TestNullStringsStayNull).
type scratch struct {
	dec [4][16]byte
	str [32]string
	n   int
}

// str returns a pointer to a copy of v, or nil (NULL) for "".
func (sc *scratch) optStr(v string) *string {
	if v == "" {
		return nil
	}
	sc.str[sc.n] = v
	sc.n++
	return &sc.str[sc.n-1]
}

// chargeRowOf is toChargeRow for the lines of a configured account.
func chargeRowOf(account string) func(*transform.Line, *chargeRow, *scratch) error {
	return func(l *transform.Line, r *chargeRow, sc *scratch) error {
		if err := toChargeRow(l, r, sc); err != nil {
			return err
		}
		r.XAccountID = account
		return nil
	}
}

func toChargeRow(l *transform.Line, r *chargeRow, sc *scratch) error {
	switch {
	case l.BillingAccountID == "", l.BillingCurrency == "", l.ChargeCategory == "", l.ChargeFrequency == "",
		l.InvoiceIssuerName == "", l.ProviderName == "", l.PublisherName == "", l.ServiceCategory == "",
		l.ServiceName == "", l.ServiceSubcategory == "", l.Provider == "", l.SourceEndpoint == "", l.ChargeID == "",
		l.BillingPeriodStart.IsZero(), l.BillingPeriodEnd.IsZero(), l.ChargePeriodStart.IsZero(), l.ChargePeriodEnd.IsZero():
		return fmt.Errorf("charge line of %s %s is missing a required column: %+v", l.Provider, l.BillingPeriodStart.Format("2006-01"), *l)
	}
	sc.n = 0
	opt := func(i int, v transform.NullDecimal) *[16]byte {
		if !v.Valid {
			return nil
		}
		sc.dec[i] = v.Bytes16()
		return &sc.dec[i]
	}
	str := sc.optStr
	*r = chargeRow{
		BilledCost:                   l.BilledCost.Bytes16(),
		BillingAccountID:             l.BillingAccountID,
		BillingAccountName:           str(l.BillingAccountName),
		BillingCurrency:              l.BillingCurrency,
		BillingPeriodEnd:             l.BillingPeriodEnd.UnixMicro(),
		BillingPeriodStart:           l.BillingPeriodStart.UnixMicro(),
		ChargeCategory:               l.ChargeCategory,
		ChargeClass:                  str(l.ChargeClass),
		ChargeDescription:            str(l.ChargeDescription),
		ChargeFrequency:              l.ChargeFrequency,
		ChargePeriodEnd:              l.ChargePeriodEnd.UnixMicro(),
		ChargePeriodStart:            l.ChargePeriodStart.UnixMicro(),
		ConsumedQuantity:             opt(0, l.ConsumedQuantity),
		ConsumedUnit:                 str(l.ConsumedUnit),
		ContractedCost:               l.ContractedCost.Bytes16(),
		EffectiveCost:                l.EffectiveCost.Bytes16(),
		InvoiceID:                    str(l.InvoiceID),
		InvoiceIssuerName:            l.InvoiceIssuerName,
		ListCost:                     l.ListCost.Bytes16(),
		PricingCurrency:              str(l.PricingCurrency),
		PricingCurrencyEffectiveCost: opt(1, l.PricingCurrencyEffectiveCost),
		PricingQuantity:              opt(2, l.PricingQuantity),
		PricingUnit:                  str(l.PricingUnit),
		ProviderName:                 l.ProviderName,
		PublisherName:                l.PublisherName,
		RegionID:                     str(l.RegionID),
		RegionName:                   str(l.RegionName),
		ResourceID:                   str(l.ResourceID),
		ResourceName:                 str(l.ResourceName),
		ResourceType:                 str(l.ResourceType),
		ServiceCategory:              l.ServiceCategory,
		ServiceName:                  l.ServiceName,
		ServiceSubcategory:           l.ServiceSubcategory,
		SkuID:                        str(l.SkuID),
		SkuMeter:                     str(l.SkuMeter),
		SubAccountID:                 str(l.SubAccountID),
		SubAccountName:               str(l.SubAccountName),
		Tags:                         str(l.Tags),
		XChargeID:                    l.ChargeID,
		XCloudProvider:               str(l.CloudProvider),
		XPlan:                        str(l.Plan),
		XProvider:                    l.Provider,
		XRegions:                     str(l.Regions),
		XSourceEndpoint:              l.SourceEndpoint,
		XTenantID:                    str(l.TenantID),
		XVendorUnitPrice:             opt(3, l.VendorUnitPrice),
	}
	return nil
}

type invoiceRow struct {
	XProvider          string   `parquet:"x_Provider,dict"`
	XAccountID         string   `parquet:"x_AccountId,dict"`
	InvoiceID          *string  `parquet:"InvoiceId,optional"`
	BillingAccountID   string   `parquet:"BillingAccountId,dict"`
	BillingAccountName *string  `parquet:"BillingAccountName,optional,dict"`
	BillingPeriodStart int64    `parquet:"BillingPeriodStart,timestamp(microsecond)"`
	BillingPeriodEnd   int64    `parquet:"BillingPeriodEnd,timestamp(microsecond)"`
	InvoiceStatus      *string  `parquet:"InvoiceStatus,optional,dict"`
	IsFinal            bool     `parquet:"IsFinal"`
	BillingCurrency    string   `parquet:"BillingCurrency,dict"`
	InvoiceTotal       [16]byte `parquet:"InvoiceTotal,decimal(24:38)"`
	LinesTotal         [16]byte `parquet:"LinesTotal,decimal(24:38)"`
	RoundingAdjustment [16]byte `parquet:"RoundingAdjustment,decimal(24:38)"`
	Difference         [16]byte `parquet:"Difference,decimal(24:38)"`
	Reconciled         bool     `parquet:"Reconciled"`
	LineCount          int64    `parquet:"LineCount"`
	Problem            *string  `parquet:"Problem,optional"`
	SourceEndpoint     string   `parquet:"SourceEndpoint,dict"`
}

// invoiceRowOf is toInvoiceRow for the invoices of a configured account.
func invoiceRowOf(account string) func(*transform.Invoice, *invoiceRow, *scratch) error {
	return func(i *transform.Invoice, r *invoiceRow, sc *scratch) error {
		if err := toInvoiceRow(i, r, sc); err != nil {
			return err
		}
		r.XAccountID = account
		return nil
	}
}

func toInvoiceRow(i *transform.Invoice, r *invoiceRow, sc *scratch) error {
	if i.Provider == "" || i.BillingAccountID == "" || i.Currency == "" || i.SourceEndpoint == "" || i.BillingPeriodStart.IsZero() {
		return fmt.Errorf("invoice row of %s %s is missing a required column: %+v", i.Provider, i.BillingPeriodStart.Format("2006-01"), *i)
	}
	sc.n = 0
	*r = invoiceRow{
		XProvider:          i.Provider,
		InvoiceID:          sc.optStr(i.InvoiceID),
		BillingAccountID:   i.BillingAccountID,
		BillingAccountName: sc.optStr(i.BillingAccountName),
		BillingPeriodStart: i.BillingPeriodStart.UnixMicro(),
		BillingPeriodEnd:   i.BillingPeriodEnd.UnixMicro(),
		InvoiceStatus:      sc.optStr(i.Status),
		IsFinal:            i.Final,
		BillingCurrency:    i.Currency,
		InvoiceTotal:       i.VendorTotal.Bytes16(),
		LinesTotal:         i.LinesTotal.Bytes16(),
		RoundingAdjustment: i.RoundingAdjustment.Bytes16(),
		Difference:         i.Difference.Bytes16(),
		Reconciled:         i.Reconciled,
		LineCount:          i.Lines,
		Problem:            sc.optStr(i.Problem),
		SourceEndpoint:     i.SourceEndpoint,
	}
	return nil
}

// Table is one dataset: its folder under DEST (and its Glue table) and
// its Parquet schema.
type Table struct {
	Name   string // folder under DEST, and the Glue table name
	schema *pq.Schema
}

var (
	ChargeLines = Table{Name: "charge_lines", schema: pq.SchemaOf(chargeRow{})}
	Invoices    = Table{Name: "invoices", schema: pq.SchemaOf(invoiceRow{})}
)

// Schema is the table's Parquet schema, columns in file order.
func (t Table) Schema() *pq.Schema { return t.schema }
