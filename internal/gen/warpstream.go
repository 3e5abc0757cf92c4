// Package gen writes synthetic provider captures of any size, in the
// capture layout (README: "Output layout"), for benchmarks and tests.
// Output is a pure function of the Config: the same seed gives the same
// bytes.
//
// WarpStream captures reconcile by construction: every daily total is an
// exact count of 10^-8 dollars, each invoice line is the cent-rounded sum of
// its cluster × product's days, and the invoice total is the sum of its lines
// plus the account charges. So a replay of any generated capture reconciles
// with a rounding adjustment of at most half a cent per invoice line.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config describes a set of WarpStream captures.
type Config struct {
	Seed  uint64
	Lines int       // daily lines per month (exactly)
	Start time.Time // first billing month (its first day, UTC)
	// Months is how many consecutive months to write (1 if zero).
	Months int
	// Pending makes the last month the open one: pending_invoice.json
	// instead of past_invoice/, and only PendingDays days so far.
	Pending     bool
	PendingDays int  // days of the open month so far (2 if zero: as of the 3rd)
	Indent      bool // pretty-print (2 spaces) instead of compact JSON
	// Shape is how the lines are spread over clusters and products, and
	// how quantities print (Shapes; "" is ShapeDefault).
	Shape string
}

// The shapes of a month (Config.Shape). Each fills Lines daily lines; only
// how they are spread and printed differs.
const (
	// ShapeDefault: 2-4 of 4 products per cluster (schema registries 1,
	// Tableflow 2), ~3.1 products a cluster, as a mixed account has.
	ShapeDefault = "default"
	// ShapeWide: every cluster has all 4 products, 31 days each: 992,000
	// lines are 8,000 clusters × 4 products × 31 days (a month shaped
	// unlike the default one: docs/performance.md).
	ShapeWide = "wide"
	// ShapeProducts: 40 products per cluster (10 meters, most of them
	// tiered): 124,000 lines are 100 clusters × 40 products; 992,000 lines
	// are 800 such clusters.
	ShapeProducts = "products40"
	// ShapeDigits17: the default spread, every quantity (daily and on
	// the invoice) printed with 17 significant digits ("1440.0000000000000").
	ShapeDigits17 = "digits17"
)

// Shapes lists every shape, ShapeDefault first.
var Shapes = []string{ShapeDefault, ShapeWide, ShapeProducts, ShapeDigits17}

func (c Config) shape() (string, error) {
	switch c.Shape {
	case "", ShapeDefault:
		return ShapeDefault, nil
	case ShapeWide, ShapeProducts, ShapeDigits17:
		return c.Shape, nil
	}
	return "", fmt.Errorf("gen: unknown shape %q (one of %s)", c.Shape, strings.Join(Shapes, ", "))
}

// catalog is the products of the shape.
func (c Config) catalog() []product {
	if c.Shape == ShapeProducts {
		return manyProducts
	}
	return products
}

func (c Config) months() int { return max(c.Months, 1) }

func (c Config) month(i int) time.Time {
	return time.Date(c.Start.Year(), c.Start.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC)
}

// Products as WarpStream names them, with their unit prices (as the vendor
// prints them) and how a day's quantity and total are made.
type product struct {
	name, unitPrice string
	quantity        func(r *rand.Rand, fullDay bool) float64
	// total of a day's quantity in units of 10^-8 dollars
	total func(q float64) int64
}

// round5 rounds dollars to 5 decimals, in 10^-8 units (daily totals print
// with 5 decimals, like "3.33331"); round8 keeps 8.
func round5(dollars float64) int64 { return int64(math.Round(dollars*1e5)) * 1000 }
func round8(dollars float64) int64 { return int64(math.Round(dollars * 1e8)) }

var products = []product{
	{"Cluster minutes", "0.23148",
		func(r *rand.Rand, full bool) float64 {
			if full {
				return 1440
			}
			return math.Round(r.Float64()*1440*4) / 4 // metered in 15-minute steps
		},
		func(q float64) int64 { return round5(q * 0.0023148) }},
	{"Uncompressed GiB written - Tier 1", "0.02000000",
		func(r *rand.Rand, _ bool) float64 { return r.Float64() * 2000 },
		func(q float64) int64 { return round5(q * 0.02) }},
	{"Uncompressed GiB written - Tier 2", "0.01500000",
		func(r *rand.Rand, _ bool) float64 { return r.Float64() * 4000 },
		func(q float64) int64 { return round8(q * 0.015) }},
	{"GiB minutes", "0.00000463",
		func(r *rand.Rand, _ bool) float64 { return r.Float64() * 1e6 },
		func(float64) int64 { return 0 }},
}

// manyProducts is ShapeProducts' catalog: 40 products, 10 meters (6 of
// them in tiers), priced so that totals stay in exact 10^-8 units.
var manyProducts = func() []product {
	var ps []product
	add := func(name string, price float64, scale float64) {
		ps = append(ps, product{name, strconv.FormatFloat(price, 'f', -1, 64),
			func(r *rand.Rand, _ bool) float64 { return r.Float64() * scale },
			func(q float64) int64 { return round8(q * price) }})
	}
	tiers := func(meter string, n int, price, scale float64) {
		for t := 1; t <= n; t++ {
			add(fmt.Sprintf("%s - Tier %d", meter, t), price/float64(t), scale)
		}
	}
	add("Cluster minutes", 0.0023148, 1440)
	add("GiB minutes", 0.00000463, 1e6)
	add("Schema registry hours", 0.05, 24)
	tiers("Uncompressed GiB written", 8, 0.02, 2000)
	tiers("Storage GiB hours", 8, 0.0001, 50000)
	tiers("Network egress GiB", 6, 0.01, 500)
	tiers("Tableflow GiB", 5, 0.03, 300)
	tiers("Agent minutes", 4, 0.0005, 1440)
	tiers("Pipeline minutes", 5, 0.001, 1440)
	add("Control plane requests", 0.0000001, 1e6)
	if len(ps) != 40 {
		panic(fmt.Sprintf("gen: %d products, want 40", len(ps)))
	}
	return ps
}()

var regions = []string{"us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-south-1", "ap-northeast-1"}

var workspaceNames = []string{"production", "staging", "analytics", "Zürich prod", "data platform", "dev"}

const (
	clustersPerWorkspace = 20
	workspacesPerTenant  = 25
)

// cluster is one virtual cluster: its identity is the same every month.
type cluster struct {
	id, name string
	regions  []string
	products []int // indexes into products
	fullDay  bool  // runs all day (1440 cluster minutes) or scales
}

// clusterAt makes cluster i of the account (stable across months).
func (c Config) clusterAt(i int) cluster {
	r := rand.New(rand.NewPCG(c.Seed, uint64(i)))
	u := func() string { // the vendor's ids: a UUID with underscores
		return fmt.Sprintf("%08x_%04x_%04x_%04x_%012x", r.Uint32(), r.Uint32()&0xffff, 0x4000|r.Uint32()&0x0fff,
			0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
	}
	cl := cluster{fullDay: r.IntN(5) != 0}
	kind := r.IntN(20)
	switch {
	case kind == 0: // Tableflow
		cl.id, cl.name = "vci_dl_"+u(), fmt.Sprintf("vcn_dl_lake_%d", i)
		cl.products = []int{0, 1}
	case kind == 1: // schema registry
		cl.id, cl.name = "vci_sr_"+u(), fmt.Sprintf("vcn_sr_registry_%d", i)
		cl.products = []int{0}
	default:
		cl.id, cl.name = "vci_"+u(), fmt.Sprintf("vcn_cluster_%d", i)
		cl.products = []int{0, 1}
		if r.IntN(2) == 0 {
			cl.products = append(cl.products, 2)
		}
		if r.IntN(3) != 0 {
			cl.products = append(cl.products, 3)
		}
	}
	cl.regions = []string{regions[r.IntN(len(regions))]}
	if r.IntN(10) == 0 {
		cl.regions = append(cl.regions, regions[r.IntN(len(regions))])
	}
	// Shapes other than the default replace the products only, so the
	// default shape's bytes are what they were before shapes existed.
	switch c.Shape {
	case ShapeWide:
		cl.products = []int{0, 1, 2, 3}
	case ShapeProducts:
		cl.products = make([]int, len(manyProducts))
		for p := range cl.products {
			cl.products[p] = p
		}
	}
	return cl
}

func (c Config) tenantID(t int) string {
	r := rand.New(rand.NewPCG(c.Seed^0x7e4a47, uint64(t)))
	return fmt.Sprintf("ti_%08x_%04x_4%03x_%04x_%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

func (c Config) workspaceID(w int) string {
	r := rand.New(rand.NewPCG(c.Seed^0x3c5b1d, uint64(w)))
	return fmt.Sprintf("wi_%08x_%04x_4%03x_%04x_%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

func workspaceName(w int) string {
	return workspaceNames[w%len(workspaceNames)] + " " + strconv.Itoa(w)
}

// Files lists the capture files of c, relative to the capture folder.
func (c Config) Files() []string {
	var out []string
	for i := range c.months() {
		m := c.month(i).Format("2006-01")
		if c.Pending && i == c.months()-1 {
			out = append(out, "warpstream/pending_invoice.json")
		} else {
			out = append(out, "warpstream/past_invoice/"+m+".json")
		}
		out = append(out, "warpstream/invoice_breakdowns/"+m+".json")
	}
	return out
}

// Write writes c's captures under dir (created if need be) and returns the
// total bytes written.
func Write(dir string, c Config) (int64, error) {
	if c.Start.IsZero() {
		return 0, fmt.Errorf("gen: Config.Start is not set")
	}
	if _, err := c.shape(); err != nil {
		return 0, err
	}
	var total int64
	for i := range c.months() {
		m := c.month(i)
		pending := c.Pending && i == c.months()-1
		var lines []chargeSum
		n, err := writeFile(filepath.Join(dir, "warpstream", "invoice_breakdowns", m.Format("2006-01")+".json"), c.Indent, func(w *jsonWriter) error {
			var err error
			lines, err = c.breakdowns(w, i, pending)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		inv := filepath.Join(dir, "warpstream", "past_invoice", m.Format("2006-01")+".json")
		if pending {
			inv = filepath.Join(dir, "warpstream", "pending_invoice.json")
		}
		n, err = writeFile(inv, c.Indent, func(w *jsonWriter) error { return c.invoice(w, i, lines) })
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func writeFile(path string, indent bool, body func(w *jsonWriter) error) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: f}
	w := newJSONWriter(cw, indent)
	if err := body(w); err != nil {
		f.Close()
		return cw.n, err
	}
	if err := w.flush(); err != nil {
		f.Close()
		return cw.n, err
	}
	return cw.n, f.Close()
}

// chargeSum is one cluster × product of a month: what its invoice line needs.
type chargeSum struct {
	cluster  int
	product  int
	quantity float64
	units    int64 // Σ daily totals in 10^-8 dollars
}

// plan walks the clusters of month i until lines days are laid out,
// calling each(cluster index, cluster, product, days) per charge.
func (c Config) plan(days int, each func(ci int, cl *cluster, p int, n int) error) error {
	left := c.Lines
	for ci := 0; left > 0; ci++ {
		cl := c.clusterAt(ci)
		for _, p := range cl.products {
			if left == 0 {
				break
			}
			n := min(days, left)
			left -= n
			if err := each(ci, &cl, p, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func daysIn(m time.Time) int { return m.AddDate(0, 1, -1).Day() }

// breakdowns writes the get_invoice_breakdowns body of month i.
func (c Config) breakdowns(w *jsonWriter, i int, pending bool) ([]chargeSum, error) {
	m := c.month(i)
	days := daysIn(m)
	if pending {
		days = c.PendingDays
		if days == 0 {
			days = 2
		}
	}
	r := rand.New(rand.NewPCG(c.Seed^0x9e3779b97f4a7c15, uint64(m.Year()*12+int(m.Month()))))
	var sums []chargeSum
	w.open('{')
	w.key("date_from")
	w.str(m.Format("2006-01-02"))
	w.key("date_to")
	w.str(m.AddDate(0, 1, 0).Format("2006-01-02"))
	w.key("tenants")
	w.open('[')
	tenant, ws, lastCluster := -1, -1, -1
	err := c.plan(days, func(ci int, cl *cluster, p int, n int) error {
		if ci != lastCluster {
			if t := ci / (clustersPerWorkspace * workspacesPerTenant); t != tenant {
				if tenant >= 0 {
					w.close(']') // charges
					w.close('}') // cluster
					w.close(']') // clusters
					w.close('}') // workspace
					w.close(']') // workspaces
					w.close('}') // tenant
				}
				tenant, ws, lastCluster = t, -1, -1
				w.open('{')
				w.key("tenant_id")
				w.str(c.tenantID(t))
				w.key("workspaces")
				w.open('[')
			}
			if k := ci / clustersPerWorkspace; k != ws {
				if ws >= 0 {
					w.close(']')
					w.close('}')
					w.close(']')
					w.close('}')
				}
				ws, lastCluster = k, -1
				w.open('{')
				w.key("workspace_id")
				w.str(c.workspaceID(k))
				w.key("workspace_name")
				w.str(workspaceName(k))
				w.key("clusters")
				w.open('[')
			}
			if lastCluster >= 0 {
				w.close(']')
				w.close('}')
			}
			lastCluster = ci
			w.open('{')
			w.key("virtual_cluster_id")
			w.str(cl.id)
			w.key("cluster_name")
			w.str(cl.name)
			w.key("cluster_regions")
			w.open('[')
			for _, reg := range cl.regions {
				w.str(reg)
			}
			w.close(']')
			w.key("charges")
			w.open('[')
		}
		pr := &c.catalog()[p]
		w.open('{')
		w.key("product")
		w.str(pr.name)
		w.key("unit_price")
		w.raw(pr.unitPrice)
		w.key("breakdowns")
		w.open('[')
		s := chargeSum{cluster: ci, product: p}
		for d := range n {
			day := m.AddDate(0, 0, d)
			q := pr.quantity(r, cl.fullDay)
			t := pr.total(q)
			s.quantity += q
			s.units += t
			w.open('{')
			w.key("date_from")
			w.str(day.Format("2006-01-02"))
			w.key("date_to")
			w.str(day.AddDate(0, 0, 1).Format("2006-01-02"))
			w.key("quantity")
			w.quantity(q, c.Shape == ShapeDigits17)
			w.key("total")
			w.units(t, 8)
			w.close('}')
		}
		w.close(']')
		w.close('}')
		sums = append(sums, s)
		return w.err
	})
	if err != nil {
		return nil, err
	}
	if tenant >= 0 {
		for _, b := range []byte("]}]}]}") {
			w.close(b)
		}
	}
	w.close(']')
	w.key("account_charges")
	w.open('[')
	w.close(']')
	w.close('}')
	w.nl()
	return sums, w.err
}

// Account charges: credits and support, the same every month.
var accountCharges = []struct {
	product, unitPrice, quantity string
	cents                        int64
}{
	{"Commit credits", "1", "-250", -25000},
	{"Free credits", "1", "-37.5", -3750},
	{"Premium Support", "500", "1", 50000},
}

// invoice writes the past or pending invoice of month i: per cluster ×
// product the cent-rounded sum of its days, and totals at every level.
func (c Config) invoice(w *jsonWriter, i int, sums []chargeSum) error {
	m := c.month(i)
	cents := func(units int64) int64 { // half away from zero
		if units < 0 {
			return -((-units + 500_000) / 1_000_000)
		}
		return (units + 500_000) / 1_000_000
	}
	w.open('{')
	w.key("date_from")
	w.str(m.Format("2006-01-02"))
	w.key("date_to")
	w.str(m.AddDate(0, 1, -1).Format("2006-01-02"))
	w.key("tenants")
	w.open('[')
	var total int64
	// Walk the sums grouped by tenant, workspace, cluster (they come in order).
	for a := 0; a < len(sums); {
		t := sums[a].cluster / (clustersPerWorkspace * workspacesPerTenant)
		var tTotal int64
		w.open('{')
		w.key("tenant_id")
		w.str(c.tenantID(t))
		w.key("workspaces")
		w.open('[')
		for a < len(sums) && sums[a].cluster/(clustersPerWorkspace*workspacesPerTenant) == t {
			k := sums[a].cluster / clustersPerWorkspace
			var wTotal int64
			w.open('{')
			w.key("workspace_id")
			w.str(c.workspaceID(k))
			w.key("clusters")
			w.open('[')
			for a < len(sums) && sums[a].cluster/clustersPerWorkspace == k {
				ci := sums[a].cluster
				cl := c.clusterAt(ci)
				var cTotal int64
				w.open('{')
				w.key("virtual_cluster_id")
				w.str(cl.id)
				w.key("charges")
				w.open('[')
				for ; a < len(sums) && sums[a].cluster == ci; a++ {
					s := sums[a]
					line := cents(s.units)
					cTotal += line
					w.open('{')
					w.key("product")
					w.str(c.catalog()[s.product].name)
					w.key("unit_price")
					w.raw(c.catalog()[s.product].unitPrice)
					w.key("quantity")
					w.quantity(s.quantity, c.Shape == ShapeDigits17)
					w.key("total")
					w.units(line, 2)
					w.close('}')
				}
				w.close(']')
				w.key("total")
				w.units(cTotal, 2)
				w.close('}')
				wTotal += cTotal
			}
			w.close(']')
			w.key("total")
			w.units(wTotal, 2)
			w.close('}')
			tTotal += wTotal
		}
		w.close(']')
		w.key("total")
		w.units(tTotal, 2)
		w.close('}')
		total += tTotal
	}
	w.close(']')
	w.key("account_charges")
	w.open('[')
	for _, a := range accountCharges {
		w.open('{')
		w.key("product")
		w.str(a.product)
		w.key("unit_price")
		w.raw(a.unitPrice)
		w.key("quantity")
		w.raw(a.quantity)
		w.key("total")
		w.units(a.cents, 2)
		w.close('}')
		total += a.cents
	}
	w.close(']')
	w.key("total")
	w.units(total, 2)
	w.close('}')
	w.nl()
	return w.err
}

// jsonWriter writes JSON by hand: fast enough for gigabytes, and the
// layout (member order, number forms) is exactly what we choose.
type jsonWriter struct {
	w        *bufio.Writer
	indent   bool
	depth    int
	first    bool // no element written yet at this depth
	afterKey bool // a member name was written; its value comes next
	buf      []byte
	err      error
}

func newJSONWriter(w io.Writer, indent bool) *jsonWriter {
	return &jsonWriter{w: bufio.NewWriterSize(w, 1<<20), indent: indent, first: true}
}

const maxDepth = 16

var indentation = []byte("\n" + strings.Repeat("  ", maxDepth))

func (w *jsonWriter) write(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

func (w *jsonWriter) newline() {
	if w.indent {
		w.write(indentation[:1+2*min(w.depth, maxDepth)])
	}
}

// elem starts a value inside an array or an object member.
func (w *jsonWriter) elem() {
	if !w.first {
		w.write([]byte{','})
	}
	w.first = false
	w.newline()
}

// open starts an object or array; inside an array it is an element, after
// key it is the member's value.
func (w *jsonWriter) open(b byte) {
	if !w.afterKey {
		if w.depth > 0 {
			w.elem()
		}
	}
	w.afterKey = false
	w.write([]byte{b})
	w.depth++
	w.first = true
}

func (w *jsonWriter) close(b byte) {
	w.depth--
	if !w.first {
		w.newline()
	}
	w.first = false
	w.write([]byte{b})
}

func (w *jsonWriter) key(k string) {
	w.elem()
	w.buf = strconv.AppendQuote(w.buf[:0], k)
	if w.indent {
		w.buf = append(w.buf, ':', ' ')
	} else {
		w.buf = append(w.buf, ':')
	}
	w.write(w.buf)
	w.afterKey = true
}

func (w *jsonWriter) value(b []byte) {
	if !w.afterKey {
		w.elem()
	}
	w.afterKey = false
	w.write(b)
}

func (w *jsonWriter) str(s string) {
	w.value(appendString(w.buf[:0], s))
}

func (w *jsonWriter) raw(s string) { w.value([]byte(s)) }

// float prints a quantity the way Go's encoding/json prints a float64:
// shortest form, plain between 1e-6 and 1e21.
func (w *jsonWriter) float(f float64) {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	w.value(strconv.AppendFloat(w.buf[:0], f, format, -1, 64))
}

// quantity prints a quantity as float does, or with 17 significant
// digits (ShapeDigits17: "1440.0000000000000", "0.032881552353501320"),
// never in exponent form.
func (w *jsonWriter) quantity(f float64, digits17 bool) {
	if !digits17 {
		w.float(f)
		return
	}
	decimals := 16 // zero: "0.0000000000000000"
	if a := math.Abs(f); a > 0 {
		// at most 24 decimals: the scale the exports keep
		decimals = min(max(17-(int(math.Floor(math.Log10(a)))+1), 0), 24)
	}
	w.value(strconv.AppendFloat(w.buf[:0], f, 'f', decimals, 64))
}

// units prints v × 10^-scale exactly, without trailing zeros ("3.33331", "0").
func (w *jsonWriter) units(v int64, scale int) { w.value(AppendUnits(w.buf[:0], v, scale)) }

func (w *jsonWriter) nl() { w.write([]byte{'\n'}) }

func (w *jsonWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// AppendUnits appends v × 10^-scale in shortest exact decimal form.
func AppendUnits(b []byte, v int64, scale int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-scale], s[len(s)-scale:]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	b = append(b, intPart...)
	if frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return b
}

// appendString quotes s as JSON (UTF-8 kept as is).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
