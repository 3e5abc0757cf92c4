package warpstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	source "github.com/invoice-export/invoice-export/extract/warpstream"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// Decoding: the invoice (small: totals only) and the daily breakdowns
// (streamed: a month of a large account is hundreds of MB).

type invoiceCharge struct {
	product   string
	unitPrice transform.NullDecimal
	quantity  transform.NullDecimal
	total     transform.NullDecimal
}

type invoice struct {
	from, to time.Time
	total    transform.NullDecimal // not Valid: omitted, read as 0
	account  []invoiceCharge       // account_charges: credits (negative), support
	charges  transform.Decimal     // Σ of the invoice's charge totals (cluster × product lines)
	levels   []string              // cluster, workspace or tenant totals that are not the sum of their charges
}

// decodeInvoice reads a pending or past invoice (small: totals only). The
// pending invoice covers the charges accrued so far, so it may end on any
// day of the month (today, say); a past one ends with the month.
func decodeInvoice(r *transform.Reader, p billing.Period, pending bool) (*invoice, error) {
	inv := &invoice{}
	err := r.Document(func(name []byte) (err error) {
		switch string(name) {
		case "date_from":
			inv.from, err = r.Date()
		case "date_to":
			inv.to, err = r.Date()
		case "total":
			inv.total, err = r.Number(false)
		case "account_charges":
			err = r.Array(func() error {
				c, err := readCharge(r)
				inv.account = append(inv.account, c)
				return err
			})
		case "tenants":
			err = r.Array(func() error { return readInvoiceTenant(r, inv) })
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	lastDay := p.End().AddDate(0, 0, -1)
	switch {
	case inv.from.IsZero():
		return nil, r.Errorf("the invoice has no date_from")
	case inv.from != p.Start():
		return nil, r.Errorf("the invoice covers a period from %s, not %s (a capture from another day? replay with the --as-of of the run that recorded it; only calendar-month billing is supported)",
			inv.from.Format("2006-01-02"), p)
	case inv.to.IsZero(), inv.to == p.End(), inv.to == lastDay:
	case pending && !inv.to.Before(inv.from) && inv.to.Before(lastDay):
	default:
		return nil, r.Errorf("the invoice ends on %s: only calendar-month billing periods are supported", inv.to.Format("2006-01-02"))
	}
	return inv, nil
}

// readInvoiceTenant reads one tenant of an invoice and checks its
// arithmetic: the cluster, workspace and tenant totals, where given, must
// be the sums of their charges exactly (all are in cents); a mismatch is
// recorded in inv.levels for reconciliation to report. The charges go to
// the ledger in a second pass (invoiceClusters), as the breakdowns reach
// them.
func readInvoiceTenant(r *transform.Reader, inv *invoice) error {
	var tenant string
	var tenantTotal transform.NullDecimal
	var tenantSum transform.Decimal
	// level checks a stated total against the sum of the charges below it.
	level := func(what string, total transform.NullDecimal, sum transform.Decimal) {
		if total.Valid && total.Cmp(sum) != 0 {
			inv.levels = append(inv.levels, fmt.Sprintf("%s: total %s, its charges add up to %s", what, total.Decimal, sum))
		}
	}
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "tenant_id":
			tenant, err = r.Str()
		case "total":
			tenantTotal, err = r.Number(false)
		case "workspaces":
			err = r.Array(func() error {
				var ws string
				var wsTotal transform.NullDecimal
				var daySum transform.Decimal
				err := r.Object(func(name []byte) (err error) {
					switch string(name) {
					case "workspace_id":
						ws, err = r.Str()
					case "total":
						wsTotal, err = r.Number(false)
					case "clusters":
						err = r.Array(func() error {
							var cluster string
							var total transform.NullDecimal
							var cs []invoiceCharge
							err := r.Object(func(name []byte) (err error) {
								switch string(name) {
								case "virtual_cluster_id":
									cluster, err = r.Str()
								case "total":
									total, err = r.Number(false)
								case "charges":
									err = r.Array(func() error {
										c, err := readCharge(r)
										cs = append(cs, c)
										return err
									})
								default:
									err = r.Skip()
								}
								return err
							})
							if err == nil && cluster == "" {
								err = r.Errorf("a cluster has no virtual_cluster_id")
							}
							var sum transform.Decimal
							for _, c := range cs {
								sum, _ = sum.Add(c.total.Decimal)
							}
							level("cluster "+cluster, total, sum)
							daySum, _ = daySum.Add(sum)
							return err
						})
					default:
						err = r.Skip()
					}
					return err
				})
				if err == nil && ws == "" {
					err = r.Errorf("a workspace has no workspace_id")
				}
				level("workspace "+ws, wsTotal, daySum)
				tenantSum, _ = tenantSum.Add(daySum)
				return err
			})
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if tenant == "" {
		return r.Errorf("a tenant has no tenant_id")
	}
	level("tenant "+tenant, tenantTotal, tenantSum)
	inv.charges, _ = inv.charges.Add(tenantSum)
	return nil
}

// errStopped ends invoiceClusters when the ledger needs no more.
var errStopped = errors.New("stopped")

// invoiceClusters is the invoice's second pass: it reads each cluster's
// charges into the ledger (g.invoiceCluster), in the invoice's order, and
// yields its id. decodeInvoice has read the same bytes and checked them,
// so it meets no new error. As there, ids may come after their children:
// those are read again once the ids are known (transform.Later).
func invoiceClusters(r *transform.Reader, g *ledger, yield func(clusterKey) bool) error {
	return r.Document(func(name []byte) error {
		if string(name) != "tenants" {
			return r.Skip()
		}
		return r.Array(func() error {
			return idThenChildren(r, "tenant_id", "workspaces", "", func(r *transform.Reader, tenant string) error {
				return invoiceWorkspace(r, g, tenant, yield)
			})
		})
	})
}

func invoiceWorkspace(r *transform.Reader, g *ledger, tenant string, yield func(clusterKey) bool) error {
	return idThenChildren(r, "workspace_id", "clusters", "", func(r *transform.Reader, ws string) error {
		return invoiceCluster(r, g, clusterKey{tenant: tenant, workspace: ws}, yield)
	})
}

// idThenChildren reads an object of which only the string member idName and
// the array member childName matter, and gives each element of the array to
// child with the id: as it streams when the id came first, afterwards
// (transform.Later) when the array did. Without an id the object is bad
// data saying noID, or, when noID is "", its children get "" (the
// invoice's side: reconciliation then names what does not match).
func idThenChildren(r *transform.Reader, idName, childName, noID string, child func(r *transform.Reader, id string) error) error {
	var id string
	var later transform.Later
	each := func(r *transform.Reader) error {
		return r.Array(func() error { return child(r, id) })
	}
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case idName:
			id, err = r.Str()
		case childName:
			err = later.Take(r, id != "", each)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" && noID != "" {
		return r.Errorf("%s", noID)
	}
	return later.Each(each)
}

// invoiceCluster reads one cluster (a handful of charges, held until its
// id is known).
func invoiceCluster(r *transform.Reader, g *ledger, key clusterKey, yield func(clusterKey) bool) error {
	g.charges = g.charges[:0]
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "virtual_cluster_id":
			key.cluster, err = r.Str()
		case "charges":
			err = r.Array(func() error {
				var l invoiceLine
				err := r.Object(func(name []byte) (err error) {
					switch string(name) {
					case "product":
						var b []byte
						if b, err = r.Bytes(); err == nil {
							l.product = g.product(b)
						}
					case "total":
						var t transform.NullDecimal
						t, err = r.Number(false)
						l.total = t.Decimal
					default:
						err = r.Skip()
					}
					return err
				})
				g.charges = append(g.charges, l)
				return err
			})
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	g.invoiceCluster(key)
	if !yield(key) {
		return errStopped
	}
	return nil
}

// readCharge reads {product, unit_price, quantity, total}. A charge
// without a total is an omitted zero (c.total is not Valid, and 0).
func readCharge(r *transform.Reader) (invoiceCharge, error) {
	var c invoiceCharge
	err := r.Object(func(name []byte) (err error) {
		switch string(name) {
		case "product":
			c.product, err = r.Str()
		case "unit_price":
			c.unitPrice, err = r.Number(true)
		case "quantity":
			c.quantity, err = r.Number(true)
		case "total":
			c.total, err = r.Number(false)
		default:
			err = r.Skip()
		}
		return err
	})
	switch {
	case err != nil:
		return c, err
	case c.product == "":
		return c, r.Errorf("a charge has no product")
	}
	return c, nil
}

// daysReader streams the daily breakdowns into usage lines.
type daysReader struct {
	period   billing.Period
	base     transform.Line
	out      *transform.Tally
	ledger   *ledger
	sumsOnly bool // only the ledger's sums: no line is made (ledger.cameBack)
	outside  int
	day      dayFields
	// x_ChargeId: per product (by ledger index), the lines of each day in
	// the cluster object being read, so that a day's second line gets #2.
	object int32
	days   []dayLines
	count  *dayLines // the charge being read
	id     []byte
	ids    idArena
	// The line being made, and its cluster's fields: kept here rather
	// than in the closures that make them, which would put a copy on the
	// heap for every charge.
	line, clusterLine transform.Line
}

// dayLines counts one product's lines of each day of the month in one
// cluster object.
type dayLines struct {
	object int32
	n      [32]int32
}

// daySum is one charge's days so far.
type daySum struct {
	total transform.Decimal
	days  int64
}

type dayFields struct {
	from, to        time.Time
	quantity, total transform.NullDecimal
}

func (w *daysReader) decode(r *transform.Reader) error {
	return r.Document(func(name []byte) error {
		if string(name) == "tenants" {
			return r.Array(func() error { return w.tenant(r) })
		}
		// date_from/date_to echo the request; account_charges are taken
		// from the invoice, which is what the period is billed.
		return r.Skip()
	})
}

// Each level below streams its children once the fields they need are
// known, and decodes them afterwards (transform.Later) in the rare case
// they come first.

func (w *daysReader) tenant(r *transform.Reader) error {
	return idThenChildren(r, "tenant_id", "workspaces", "a tenant has no tenant_id", w.workspace)
}

func (w *daysReader) workspace(r *transform.Reader, tenant string) error {
	var id, name string
	var haveName bool
	var later transform.Later
	each := func(r *transform.Reader) error {
		return r.Array(func() error { return w.cluster(r, tenant, id, name) })
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "workspace_id":
			id, err = r.Str()
		case "workspace_name":
			name, err = r.Str()
			haveName = true
		case "clusters":
			err = later.Take(r, id != "" && haveName, each)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" {
		return r.Errorf("a workspace of tenant %s has no workspace_id", tenant)
	}
	return later.Each(each)
}

func (w *daysReader) cluster(r *transform.Reader, tenant, workspace, workspaceName string) error {
	var id, name string
	var regions []string
	var haveName, haveRegions bool
	var later transform.Later
	each := func(r *transform.Reader) error {
		l := &w.clusterLine
		*l = w.base
		l.TenantID = tenant
		l.SubAccountID, l.SubAccountName = workspace, workspaceName
		l.ResourceID, l.ResourceName, l.ResourceType = id, name, resourceType(id)
		if len(regions) == 1 {
			l.RegionID, l.RegionName = regions[0], regions[0]
		}
		if len(regions) > 0 {
			b, _ := json.Marshal(regions)
			l.Regions = string(b)
		}
		ci := w.ledger.open(clusterKey{tenant, workspace, id})
		w.object++
		err := r.Array(func() error { return w.charge(r, ci) })
		w.ledger.closeCluster(ci)
		return err
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "virtual_cluster_id":
			id, err = r.Str()
		case "cluster_name":
			name, err = r.Str()
			haveName = true
		case "cluster_regions":
			regions, err = r.Strs()
			haveRegions = true
		case "charges":
			err = later.Take(r, id != "" && haveName && haveRegions, each)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if id == "" {
		return r.Errorf("a cluster of workspace %s has no virtual_cluster_id", workspace)
	}
	return later.Each(each)
}

// charge streams one product's days; w.clusterLine carries the cluster's
// fields.
func (w *daysReader) charge(r *transform.Reader, cluster int32) error {
	var product string
	var pi int32
	var unitPrice transform.NullDecimal
	var haveUnitPrice bool
	var later transform.Later
	each := func(r *transform.Reader) error {
		p := &w.ledger.prods[pi]
		l := &w.line
		*l = w.clusterLine
		l.ChargeCategory, l.ChargeFrequency = transform.Usage, transform.UsageBased
		l.ChargeDescription, l.SkuID, l.SkuMeter = p.name, p.name, p.meter
		l.ConsumedUnit, l.PricingUnit = p.unit, p.unit
		l.VendorUnitPrice = unitPrice
		l.SourceEndpoint = source.Breakdowns
		// A product listed twice for one cluster (a second unit_price),
		// or a day listed twice, is lines of its own that the ledger adds;
		// their ids count the lines of each day (x_ChargeId #n).
		for int(pi) >= len(w.days) {
			w.days = append(w.days, dayLines{})
		}
		if w.count = &w.days[pi]; w.count.object != w.object {
			*w.count = dayLines{object: w.object}
		}
		var sum daySum
		err := r.Array(func() error { return w.breakdown(r, l, &sum) })
		w.ledger.listed(cluster, pi, sum.days, sum.total)
		return err
	}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "product":
			var b []byte
			if b, err = r.Bytes(); err == nil && len(b) > 0 {
				pi = w.ledger.product(b)
				product = w.ledger.prods[pi].name
			}
		case "unit_price":
			unitPrice, err = r.Number(true)
			haveUnitPrice = true
		case "breakdowns":
			err = later.Take(r, product != "" && haveUnitPrice, each)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if product == "" {
		return r.Errorf("a charge of cluster %s has no product", w.clusterLine.ResourceID)
	}
	return later.Each(each)
}

// breakdown reads one day and writes its usage line.
func (w *daysReader) breakdown(r *transform.Reader, l *transform.Line, sum *daySum) error {
	d := &w.day
	*d = dayFields{}
	err := r.Object(func(n []byte) (err error) {
		switch string(n) {
		case "date_from":
			d.from, err = r.Date()
		case "date_to":
			d.to, err = r.Date()
		case "quantity":
			d.quantity, err = r.Number(true)
		case "total":
			d.total, err = r.Number(false)
		default:
			err = r.Skip()
		}
		return err
	})
	switch {
	case err != nil:
		return err
	case d.from.IsZero() || d.to.IsZero():
		return r.Errorf("a daily breakdown has no date_from or date_to")
	case !d.to.After(d.from):
		return r.Errorf("a daily breakdown ends (%s) before it starts (%s)", d.to.Format("2006-01-02"), d.from.Format("2006-01-02"))
	case !d.to.Equal(d.from.AddDate(0, 0, 1)):
		// A daily line is [d, d+1): a longer one could reach past the
		// billing period and would not be a day.
		return r.Errorf("a daily breakdown covers %s to %s: each must cover exactly one day, date_to = date_from + 1",
			d.from.Format("2006-01-02"), d.to.Format("2006-01-02"))
	}
	if !d.quantity.Valid {
		d.quantity = transform.Some(transform.Decimal{}) // an omitted zero; d.total's is 0 as it is
	}
	if !w.period.Contains(d.from) {
		w.outside++
		return nil
	}
	sum.total, _ = sum.total.Add(d.total.Decimal)
	sum.days++
	if w.sumsOnly {
		return nil
	}
	l.ChargePeriodStart, l.ChargePeriodEnd = d.from, d.to
	// x_ChargeId: tenant/workspace/cluster/product/day, #n on the n-th
	// line of a day.
	w.id = append(append(append(append(append(append(append(append(w.id[:0],
		l.TenantID...), '/'), l.SubAccountID...), '/'), l.ResourceID...), '/'), l.SkuID...), '/')
	w.id = appendDay(w.id, d.from)
	n := &w.count.n[d.from.Day()]
	if *n++; *n > 1 {
		w.id = strconv.AppendInt(append(w.id, '#'), int64(*n), 10)
	}
	l.ChargeID = w.ids.string(w.id)
	l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = d.total.Decimal, d.total.Decimal, d.total.Decimal, d.total.Decimal
	l.ConsumedQuantity, l.PricingQuantity = d.quantity, d.quantity
	return w.out.Write(l)
}

// appendDay appends t as t.AppendFormat(b, "2006-01-02") does for the
// years parseDay reads (0000-9999), in a fraction of its time: it runs
// once a line.
func appendDay(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// idArena makes the lines' ids (x_ChargeId, ~150 bytes each, one per
// line) as strings cut from shared 64 KiB blocks: one allocation per ~400
// lines instead of one per line. Hand-written (unsafe.String), as no
// library does it: a block is only ever appended to, so the bytes of an id
// handed out are never written again, as a Go string requires; a block is
// collected when no id cut from it is held any more.
type idArena struct{ block []byte }

const idBlock = 64 << 10

func (a *idArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.block)-len(a.block) < len(b) {
		a.block = make([]byte, 0, max(idBlock, len(b)))
	}
	n := len(a.block)
	a.block = append(a.block, b...)
	return unsafe.String(&a.block[n], len(b))
}
