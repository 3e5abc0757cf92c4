package load

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/invoice-export/invoice-export/internal/testkit/duck"
	"github.com/invoice-export/invoice-export/transform"
)

// The statistics of DECIMAL columns are in signed order (decimal.go). They
// are read back with Arrow's Parquet reader (chunk and page header
// statistics), DuckDB, and, for the page index, which Arrow v17 does not
// read, parquet-go's thrift decoding of the footer (format.ColumnIndex: the
// raw bytes as written, no comparison of parquet-go's involved). Every
// expected value is computed here from the rows handed to the writer,
// decoding the 16 bytes with math/big.

// testPageOptions make several pages per column (256 rows for a required
// decimal) and several row groups, the last one short.
func testPageOptions() []pq.WriterOption {
	return []pq.WriterOption{pq.PageBufferSize(4096), pq.MaxRowsPerRowGroup(4096)}
}

const signedTestRows = 3*4096 + 1000

// cents is k/100 as a Decimal.
func cents(k int) transform.Decimal {
	sign := ""
	if k < 0 {
		sign, k = "-", -k
	}
	return transform.MustDecimal(fmt.Sprintf("%s%d.%02d", sign, k/100, k%100))
}

// signedLines are charge lines whose decimal columns hold both signs, in
// patterns the page index must get right:
//
//	BilledCost        -250, -0.01439, 0, 500, 12.5, -3 over and over: every page mixed
//	ContractedCost    ascending from -66.44 to 66.43: pages ascending
//	EffectiveCost     descending from 66.44 to -66.43: pages descending
//	ListCost          a constant per 256 rows: 0..7 then -8..-1 in each 4096:
//	                  ascending as unsigned bytes, unordered as numbers
//	ConsumedQuantity  -1.5, 2, -0.000001, NULL, with runs of 1000 NULLs
//	PricingCurrencyEffectiveCost  all NULL
//	PricingQuantity   negative, descending
//	x_VendorUnitPrice positive, a NULL every third row
func signedLines() []transform.Line {
	lines := syntheticLines(signedTestRows)
	billed := []string{"-250", "-0.01439", "0", "500", "12.5", "-3"}
	consumed := []transform.NullDecimal{transform.Some(transform.MustDecimal("-1.5")), transform.Some(transform.MustDecimal("2")),
		transform.Some(transform.MustDecimal("-0.000001")), {}}
	half := signedTestRows / 2
	for i := range lines {
		l := &lines[i]
		l.BilledCost = transform.MustDecimal(billed[i%len(billed)])
		l.ContractedCost = cents(i - half)
		l.EffectiveCost = cents(half - i)
		p := (i % 4096) / 256
		if p >= 8 {
			p -= 16
		}
		l.ListCost = transform.MustDecimal(fmt.Sprint(p))
		l.ConsumedQuantity = consumed[i%len(consumed)]
		if (i/1000)%7 == 3 {
			l.ConsumedQuantity = transform.NullDecimal{}
		}
		l.PricingCurrencyEffectiveCost = transform.NullDecimal{}
		l.PricingQuantity = transform.Some(cents(-50 - i))
		l.VendorUnitPrice = transform.Some(transform.MustDecimal(fmt.Sprintf("0.23148%06d", i)))
		if i%3 == 0 {
			l.VendorUnitPrice = transform.NullDecimal{}
		}
	}
	return lines
}

func signedInvoices() []transform.Invoice {
	var out []transform.Invoice
	for i, v := range []string{"-250", "-0.01439", "0", "500", "22.77", "-3"} {
		d := transform.MustDecimal(v)
		out = append(out, transform.Invoice{
			Provider: "warpstream", BillingAccountID: "default", Currency: "USD", SourceEndpoint: "get_past_invoice",
			BillingPeriodStart: october.Start(), BillingPeriodEnd: october.End(),
			VendorTotal: d, LinesTotal: d.Neg(), RoundingAdjustment: transform.MustDecimal(fmt.Sprintf("-0.0000%d", i)), Difference: d,
		})
	}
	return out
}

// decimalColumn is a DECIMAL column of a row struct.
type decimalColumn struct {
	name  string
	field int
}

func decimalColumnsOf(t reflect.Type) []decimalColumn {
	var cols []decimalColumn
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("parquet")
		if strings.Contains(tag, ",decimal(") {
			cols = append(cols, decimalColumn{name: strings.Split(tag, ",")[0], field: i})
		}
	}
	return cols
}

// twos decodes big-endian two's complement.
func twos(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// decimalValues are a column's values, row by row: nil for NULL.
func decimalValues[T any](rows []T, c decimalColumn) []*big.Int {
	out := make([]*big.Int, len(rows))
	for i := range rows {
		f := reflect.ValueOf(&rows[i]).Elem().Field(c.field)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		b := f.Interface().([16]byte)
		out[i] = twos(b[:])
	}
	return out
}

// dec prints v/10^24 without trailing zeros, or NULL for nil.
func dec(v *big.Int) string {
	if v == nil {
		return "NULL"
	}
	return strings.TrimSuffix(strings.TrimRight(scaled(v), "0"), ".")
}

// bounds are the true min, max and null count of values.
type bounds struct {
	min, max *big.Int
	nulls    int64
}

func boundsOf(values []*big.Int) (b bounds) {
	for _, v := range values {
		switch {
		case v == nil:
			b.nulls++
		case b.min == nil:
			b.min, b.max = v, v
		case v.Cmp(b.min) < 0:
			b.min = v
		case v.Cmp(b.max) > 0:
			b.max = v
		}
	}
	return b
}

// boundaryOrder is what a page index may claim of pages with these bounds
// (pages of nulls left out), under cmp: ASCENDING only if neither the mins
// nor the maxes ever go down, DESCENDING only if they never go up.
func boundaryOrder(pages []bounds, cmp func(a, b *big.Int) int) format.BoundaryOrder {
	var set []bounds
	for _, p := range pages {
		if p.min != nil {
			set = append(set, p)
		}
	}
	if len(set) < 2 {
		return format.Unordered
	}
	asc, desc := true, true
	for i := 1; i < len(set); i++ {
		for _, c := range []int{cmp(set[i-1].min, set[i].min), cmp(set[i-1].max, set[i].max)} {
			if c < 0 {
				desc = false
			}
			if c > 0 {
				asc = false
			}
		}
	}
	switch {
	case asc:
		return format.Ascending
	case desc:
		return format.Descending
	}
	return format.Unordered
}

func signedCmp(a, b *big.Int) int { return a.Cmp(b) }

// unsignedCmp is parquet-go v0.32.0's order: the 16 bytes as unsigned.
func unsignedCmp(a, b *big.Int) int { return bytes.Compare(bytes16(a), bytes16(b)) }

func bytes16(v *big.Int) []byte {
	m := new(big.Int).Lsh(big.NewInt(1), 128)
	u := new(big.Int).Mod(v, m)
	return u.FillBytes(make([]byte, 16))
}

// writeRows writes items with conv through the writer the Store uses and
// returns the rows it was handed.
func writeRows[T, S any](t *testing.T, path string, pipelined bool, conv func(*S, *T, *scratch) error, items []S, opts ...pq.WriterOption) []T {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w *rowWriter[T, S]
	if pipelined {
		w = newPipelinedRowWriter(f, conv, opts...)
	} else {
		w = newRowWriter(f, conv, opts...)
	}
	rows := make([]T, len(items))
	for i := range items {
		if err := w.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
		if err := conv(&items[i], &rows[i], new(scratch)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// pageIndex reads the file's ColumnIndex and OffsetIndex entries, by row
// group then column.
func pageIndex(t *testing.T, path string) ([]format.ColumnIndex, []format.OffsetIndex) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f.ColumnIndexes(), f.OffsetIndexes()
}

// rowGroupPages are the true bounds of every row group and page of a
// column, by the row ranges the file says.
type rowGroupPages struct {
	chunk bounds
	pages []bounds
}

// checkSignedStatistics checks every statistic of every decimal column of
// the file against rows, and returns the true bounds it found, by column.
func checkSignedStatistics[T any](t *testing.T, path string, rows []T) map[string][]rowGroupPages {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	ncol := md.Schema.NumColumns()
	cis, ois := pageIndex(t, path)
	if len(cis) != rdr.NumRowGroups()*ncol || len(ois) != len(cis) {
		t.Fatalf("page index of %d chunks, want %d", len(cis), rdr.NumRowGroups()*ncol)
	}
	found := map[string][]rowGroupPages{}
	for _, c := range decimalColumnsOf(reflect.TypeFor[T]()) {
		values := decimalValues(rows, c)
		col := md.Schema.ColumnIndexByName(c.name)
		if col < 0 {
			t.Fatalf("no column %s", c.name)
		}
		start := 0
		for g := range rdr.NumRowGroups() {
			n := int(md.RowGroup(g).NumRows())
			rgValues := values[start : start+n]
			start += n
			want := boundsOf(rgValues)
			at := fmt.Sprintf("%s row group %d", c.name, g)

			// The chunk's statistics, by Arrow.
			cc, err := md.RowGroup(g).ColumnChunk(col)
			if err != nil {
				t.Fatal(err)
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				t.Fatalf("%s: no statistics (%v)", at, err)
			}
			fs := st.(*metadata.FixedLenByteArrayStatistics)
			if !fs.HasNullCount() || fs.NullCount() != want.nulls {
				t.Errorf("%s: null count %d (set %v), want %d", at, fs.NullCount(), fs.HasNullCount(), want.nulls)
			}
			if want.min == nil {
				if fs.HasMinMax() {
					t.Errorf("%s: only NULLs, but min %s max %s", at, dec(twos(fs.Min())), dec(twos(fs.Max())))
				}
			} else {
				if !fs.HasMinMax() {
					t.Fatalf("%s: no min and max", at)
				}
				min, max := twos(fs.Min()), twos(fs.Max())
				if min.Cmp(max) > 0 {
					t.Errorf("%s: min %s > max %s", at, dec(min), dec(max))
				}
				if min.Cmp(want.min) != 0 || max.Cmp(want.max) != 0 {
					t.Errorf("%s: chunk min %s max %s, want %s %s", at, dec(min), dec(max), dec(want.min), dec(want.max))
				}
			}

			// The page index: one entry per page, in every list.
			ci, oi := cis[g*ncol+col], ois[g*ncol+col]
			np := len(oi.PageLocations)
			if np == 0 || len(ci.NullPages) != np || len(ci.MinValues) != np || len(ci.MaxValues) != np || len(ci.NullCounts) != np {
				t.Fatalf("%s: %d pages, column index of %d null pages, %d mins, %d maxes, %d null counts",
					at, np, len(ci.NullPages), len(ci.MinValues), len(ci.MaxValues), len(ci.NullCounts))
			}
			rg := rowGroupPages{chunk: want}
			for p := range np {
				from, to := int(oi.PageLocations[p].FirstRowIndex), n
				if p+1 < np {
					to = int(oi.PageLocations[p+1].FirstRowIndex)
				}
				page := boundsOf(rgValues[from:to])
				rg.pages = append(rg.pages, page)
				at := fmt.Sprintf("%s page %d (rows %d-%d)", at, p, from, to)
				if ci.NullCounts[p] != page.nulls {
					t.Errorf("%s: null count %d, want %d", at, ci.NullCounts[p], page.nulls)
				}
				if ci.NullPages[p] != (page.min == nil) {
					t.Errorf("%s: null page %v, want %v", at, ci.NullPages[p], page.min == nil)
				}
				if page.min == nil {
					if len(ci.MinValues[p]) != 0 || len(ci.MaxValues[p]) != 0 {
						t.Errorf("%s: page of NULLs with min %x max %x", at, ci.MinValues[p], ci.MaxValues[p])
					}
					continue
				}
				min, max := twos(ci.MinValues[p]), twos(ci.MaxValues[p])
				if len(ci.MinValues[p]) != 16 || len(ci.MaxValues[p]) != 16 || min.Cmp(page.min) != 0 || max.Cmp(page.max) != 0 {
					t.Errorf("%s: min %s max %s, want %s %s", at, dec(min), dec(max), dec(page.min), dec(page.max))
				}
			}
			if got, want := ci.BoundaryOrder, boundaryOrder(rg.pages, signedCmp); got != want {
				t.Errorf("%s: boundary order %v, want %v", at, got, want)
			}
			found[c.name] = append(found[c.name], rg)
		}
	}
	return found
}

// The chunk statistics and the page index of every decimal column are the
// true ones, in numeric order, over several pages and row groups.
func TestDecimalStatisticsAreSigned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lines.parquet")
	rows := writeRows(t, path, true, toChargeRow, signedLines(), testPageOptions()...)
	found := checkSignedStatistics(t, path, rows)

	// The data is what makes the checks above able to fail: mixed signs in
	// a chunk, pages of NULLs, and page orders that unsigned bytes get
	// wrong.
	mixed, nullPages, pages := 0, 0, 0
	for _, rgs := range found {
		for _, rg := range rgs {
			if rg.chunk.min != nil && rg.chunk.min.Sign() < 0 && rg.chunk.max.Sign() > 0 {
				mixed++
			}
			for _, p := range rg.pages {
				if p.min == nil {
					nullPages++
				}
			}
			pages += len(rg.pages)
		}
	}
	hasOrder := func(col string, signed, unsigned format.BoundaryOrder) bool {
		for _, rg := range found[col] {
			if boundaryOrder(rg.pages, signedCmp) == signed && boundaryOrder(rg.pages, unsignedCmp) == unsigned {
				return true
			}
		}
		return false
	}
	if len(found["BilledCost"]) < 3 || mixed < 10 || nullPages < 3 || pages < 100 ||
		!hasOrder("ListCost", format.Unordered, format.Ascending) ||
		!hasOrder("EffectiveCost", format.Descending, format.Unordered) ||
		!hasOrder("ContractedCost", format.Ascending, format.Unordered) {
		t.Fatalf("test data too tame: %d row groups, %d mixed chunks, %d pages of NULLs in %d pages", len(found["BilledCost"]), mixed, nullPages, pages)
	}
}

// The invoices table (written without the pipeline) gets them right too.
func TestInvoiceDecimalStatisticsAreSigned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invoices.parquet")
	rows := writeRows(t, path, false, toInvoiceRow, signedInvoices())
	found := checkSignedStatistics(t, path, rows)
	if rg := found["Difference"]; len(rg) != 1 || rg[0].chunk.min.Int64() >= 0 || rg[0].chunk.max.Sign() <= 0 {
		t.Fatalf("test data too tame: %+v", rg)
	}
}

// With the production options too: one page per column, the Store's
// pipelined writer.
func TestDecimalStatisticsWithWriterOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lines.parquet")
	rows := writeRows(t, path, true, toChargeRow, signedLines())
	checkSignedStatistics(t, path, rows)
}

// The deprecated statistics in each data page header, off in production,
// come from the same page bounds: right when they are turned on.
func TestDecimalPageHeaderStatisticsAreSigned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lines.parquet")
	rows := writeRows(t, path, true, toChargeRow, signedLines(), append(testPageOptions(), pq.DataPageStatistics(true))...)
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	checked := 0
	for _, c := range decimalColumnsOf(reflect.TypeFor[chargeRow]()) {
		values := decimalValues(rows, c)
		col := md.Schema.ColumnIndexByName(c.name)
		start := 0
		for g := range rdr.NumRowGroups() {
			pr, err := rdr.RowGroup(g).GetColumnPageReader(col)
			if err != nil {
				t.Fatal(err)
			}
			for pr.Next() {
				dp, ok := pr.Page().(file.DataPage)
				if !ok {
					continue
				}
				n := int(dp.NumValues())
				want := boundsOf(values[start : start+n])
				st := dp.Statistics()
				at := fmt.Sprintf("%s rows %d-%d", c.name, start, start+n)
				start += n
				if !st.HasNullCount || st.NullCount != want.nulls {
					t.Errorf("%s: null count %d, want %d", at, st.NullCount, want.nulls)
				}
				if want.min == nil {
					continue
				}
				if !st.HasMin || !st.HasMax || twos(st.Min).Cmp(want.min) != 0 || twos(st.Max).Cmp(want.max) != 0 {
					t.Errorf("%s: page header min %s max %s, want %s %s", at, dec(twos(st.Min)), dec(twos(st.Max)), dec(want.min), dec(want.max))
				}
				checked++
			}
			if err := pr.Err(); err != nil {
				t.Fatal(err)
			}
		}
		if start != len(rows) {
			t.Fatalf("%s: pages of %d rows, want %d", c.name, start, len(rows))
		}
	}
	if checked < 100 {
		t.Fatalf("only %d pages checked", checked)
	}
}

// scaled prints v/10^24 the way DuckDB prints a DECIMAL(38,24).
func scaled(v *big.Int) string {
	s := new(big.Int).Abs(v).String()
	if len(s) <= 24 {
		s = strings.Repeat("0", 25-len(s)) + s
	}
	s = s[:len(s)-24] + "." + s[len(s)-24:]
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// DuckDB reads the same statistics, and prunes with them: the credits are
// all found.
func TestDuckDBFindsTheCredits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lines.parquet")
	lines := signedLines()
	rows := writeRows(t, path, true, toChargeRow, lines, testPageOptions()...)
	db := duck.Open(t)
	src := fmt.Sprintf("read_parquet('%s')", path)

	for _, c := range decimalColumnsOf(reflect.TypeFor[chargeRow]()) {
		values := decimalValues(rows, c)
		var neg, pos int
		for _, v := range values {
			switch {
			case v == nil:
			case v.Sign() < 0:
				neg++
			case v.Sign() > 0:
				pos++
			}
		}
		q := func(where string) string {
			return duck.Value(t, db, fmt.Sprintf(`SELECT count(*) FROM %s WHERE "%s" %s`, src, c.name, where))
		}
		if got := q("< 0"); got != fmt.Sprint(neg) {
			t.Errorf("%s < 0: %s rows, want %d", c.name, got, neg)
		}
		if got := q("> 0"); got != fmt.Sprint(pos) {
			t.Errorf("%s > 0: %s rows, want %d", c.name, got, pos)
		}

		// Row group by row group, as DuckDB reads the footer.
		meta := duck.Rows(t, db, fmt.Sprintf(`SELECT row_group_id, row_group_num_rows, stats_min_value, stats_max_value, stats_null_count,
			CAST(stats_min_value AS DECIMAL(38,24)) <= CAST(stats_max_value AS DECIMAL(38,24))
			FROM parquet_metadata('%s') WHERE path_in_schema = '%s' ORDER BY row_group_id`, path, c.name))
		start := 0
		for _, m := range meta {
			var n int
			fmt.Sscan(m[1], &n)
			want := boundsOf(values[start : start+n])
			start += n
			wantMin, wantMax, ordered := "NULL", "NULL", "NULL"
			if want.min != nil {
				wantMin, wantMax, ordered = scaled(want.min), scaled(want.max), "true"
			}
			if m[2] != wantMin || m[3] != wantMax || m[4] != fmt.Sprint(want.nulls) || m[5] != ordered {
				t.Errorf("%s row group %s: DuckDB stats min %s max %s nulls %s (min <= max: %s), want %s %s %d",
					c.name, m[0], m[2], m[3], m[4], m[5], wantMin, wantMax, want.nulls)
			}
		}
		if start != len(rows) || len(meta) < 3 {
			t.Fatalf("%s: %d row groups of %d rows, want %d rows", c.name, len(meta), start, len(rows))
		}
	}
	if got := duck.Value(t, db, fmt.Sprintf("SELECT sum(BilledCost) FROM %s WHERE BilledCost < 0", src)); !strings.HasPrefix(got, "-") {
		t.Errorf("sum of the credits %s", got)
	}
}

// The writer's schema is the row struct's, with the decimal leaves typed
// signedDecimal: equal nodes, so parquet-go keeps its fast path, and the
// same schema in the file.
func TestWriterSchemaIsTheRowSchema(t *testing.T) {
	if writerSchema[chargeRow]() != writerSchema[chargeRow]() {
		t.Error("writer schema not cached")
	}
	for _, c := range []struct {
		table *Table
		got   *pq.Schema
		typ   reflect.Type
	}{
		{&ChargeLines, writerSchema[chargeRow](), reflect.TypeFor[chargeRow]()},
		{&Invoices, writerSchema[invoiceRow](), reflect.TypeFor[invoiceRow]()},
	} {
		if !pq.EqualNodes(c.got, c.table.schema) || c.got.Name() != c.table.schema.Name() {
			t.Errorf("%s: writer schema\n%v\nis not\n%v", c.table.Name, c.got, c.table.schema)
		}
		decimals := map[string]bool{}
		for _, d := range decimalColumnsOf(c.typ) {
			decimals[d.name] = true
		}
		fields, orig := c.got.Fields(), c.table.schema.Fields()
		for i, f := range fields {
			_, signed := f.Type().(*signedDecimal)
			if f.Name() != orig[i].Name() || f.Optional() != orig[i].Optional() || signed != decimals[f.Name()] ||
				f.Type().String() != orig[i].Type().String() || f.Type().Length() != orig[i].Type().Length() {
				t.Errorf("%s.%s: %v (signed %v), was %v", c.table.Name, f.Name(), f.Type(), signed, orig[i].Type())
			}
		}
		if len(decimals) < 4 {
			t.Errorf("%s: %d decimal columns", c.table.Name, len(decimals))
		}
	}
}

// compareSigned and signedBounds agree with math/big.
func TestSignedCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	edge := [][]byte{{0x80}, {0x7f}, {0xff}, {0x00}, {0x00, 0x80}, {0xff, 0x7f}, {0xff, 0xff}, {0x80, 0x00}}
	random := func() []byte {
		b := make([]byte, 1+rng.IntN(17))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(4) == 0 {
				b[i] = []byte{0, 0xff, 0x80, 0x7f}[rng.IntN(4)]
			}
		}
		return b
	}
	for range 20000 {
		a, b := random(), random()
		if rng.IntN(10) == 0 {
			a = edge[rng.IntN(len(edge))]
		}
		if got, want := compareSigned(a, b), twos(a).Cmp(twos(b)); got != want {
			t.Fatalf("compareSigned(%x, %x) = %d, want %d", a, b, got, want)
		}
	}
	if compareSigned(nil, []byte{0x80}) >= 0 || compareSigned([]byte{0}, nil) <= 0 || compareSigned(nil, nil) != 0 {
		t.Error("an empty value does not sort first")
	}
	for _, size := range []int{16, 9} {
		for range 2000 {
			n := 1 + rng.IntN(50)
			data := make([]byte, n*size)
			for i := range data {
				data[i] = []byte{0, 0xff, 0x80, 0x7f, byte(rng.IntN(256))}[rng.IntN(5)]
			}
			lo, hi := signedBounds(data, size)
			for i := range n {
				v := twos(data[i*size : (i+1)*size])
				if v.Cmp(twos(data[lo*size:(lo+1)*size])) < 0 || v.Cmp(twos(data[hi*size:(hi+1)*size])) > 0 {
					t.Fatalf("size %d: bounds %d %d, but value %d is %v", size, lo, hi, i, v)
				}
			}
		}
	}
}

// The page index of a column: signed order, one entry per page, and a
// copy that outlives Reset.
func TestSignedIndexer(t *testing.T) {
	v := func(s string) pq.Value {
		b := transform.MustDecimal(s).Bytes16()
		return pq.FixedLenByteArrayValue(b[:])
	}
	x := (&signedDecimal{Type: pq.FixedLenByteArrayType(16)}).NewColumnIndexer(16)
	x.IndexPage(10, 0, v("5"), v("7"))
	x.IndexPage(10, 10, pq.Value{}, pq.Value{})
	x.IndexPage(10, 2, v("-1"), v("4"))
	x.IndexPage(10, 0, v("-250"), v("-3"))
	ci := x.ColumnIndex()
	if ci.BoundaryOrder != format.Descending {
		t.Errorf("boundary order %v, want DESCENDING", ci.BoundaryOrder)
	}
	if fmt.Sprint(ci.NullPages) != "[false true false false]" || fmt.Sprint(ci.NullCounts) != "[0 10 2 0]" ||
		len(ci.MinValues) != 4 || len(ci.MaxValues) != 4 || len(ci.MinValues[1]) != 0 {
		t.Errorf("column index %+v", ci)
	}
	x.Reset()
	x.IndexPage(1, 0, v("1"), v("1"))
	x.IndexPage(1, 0, v("2"), v("2"))
	if got := x.ColumnIndex(); got.BoundaryOrder != format.Ascending || len(got.MinValues) != 2 {
		t.Errorf("after Reset: %+v", got)
	}
	if got := scaled(twos(ci.MinValues[3])); got != "-250.000000000000000000000000" {
		t.Errorf("the first column index changed after Reset: min %s", got)
	}
}
