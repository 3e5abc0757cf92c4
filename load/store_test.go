package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/apache/arrow/go/v17/parquet/schema"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// Every file we write is read back here with Arrow's Parquet reader, a
// second, independent implementation of the format.

var october, _ = billing.ParsePeriod("2026-10")

// october10 is WarpStream's default account's October 2026.
var october10 = Unit{Provider: "warpstream", Account: LegacyAccount, Period: october}

// edgeLines are lines at the edges of what the schema holds.
func edgeLines() []transform.Line {
	base := syntheticLines(1)[0]
	a, b, c := base, base, base
	a.BilledCost = transform.MustDecimal("-99999999999999.999999999999999999999999")
	a.ConsumedQuantity = transform.Some(transform.MustDecimal("0.000000012345678901234567"))
	a.SubAccountName, a.ResourceName = "Analytik Zürich", "東京-cluster"
	b.BilledCost = transform.MustDecimal("0")
	b.ConsumedQuantity, b.PricingQuantity, b.VendorUnitPrice = transform.NullDecimal{}, transform.NullDecimal{}, transform.NullDecimal{}
	b.RegionID, b.RegionName, b.ResourceID, b.Tags, b.ChargeDescription = "", "", "", "", ""
	c.Tags = `{"env":"prod","cost_center":"12345"}`
	c.PricingCurrency, c.PricingCurrencyEffectiveCost = "CRDB_CLOUD_CREDITS", transform.Some(transform.MustDecimal("12.5"))
	c.InvoiceID = "inv_2026_10"
	return []transform.Line{a, b, c}
}

// expected renders a line's value of a column the way readArrow does.
var expected = map[string]func(l *transform.Line) string{
	"BilledCost": func(l *transform.Line) string { return l.BilledCost.String() }, "BillingAccountId": str(func(l *transform.Line) string { return l.BillingAccountID }),
	"BillingAccountName": str(func(l *transform.Line) string { return l.BillingAccountName }), "BillingCurrency": str(func(l *transform.Line) string { return l.BillingCurrency }),
	"BillingPeriodEnd": tsv(func(l *transform.Line) time.Time { return l.BillingPeriodEnd }), "BillingPeriodStart": tsv(func(l *transform.Line) time.Time { return l.BillingPeriodStart }),
	"ChargeCategory": str(func(l *transform.Line) string { return l.ChargeCategory }), "ChargeClass": str(func(l *transform.Line) string { return l.ChargeClass }),
	"ChargeDescription": str(func(l *transform.Line) string { return l.ChargeDescription }), "ChargeFrequency": str(func(l *transform.Line) string { return l.ChargeFrequency }),
	"ChargePeriodEnd": tsv(func(l *transform.Line) time.Time { return l.ChargePeriodEnd }), "ChargePeriodStart": tsv(func(l *transform.Line) time.Time { return l.ChargePeriodStart }),
	"ConsumedQuantity": nd(func(l *transform.Line) transform.NullDecimal { return l.ConsumedQuantity }), "ConsumedUnit": str(func(l *transform.Line) string { return l.ConsumedUnit }),
	"ContractedCost": func(l *transform.Line) string { return l.ContractedCost.String() }, "EffectiveCost": func(l *transform.Line) string { return l.EffectiveCost.String() },
	"InvoiceId": str(func(l *transform.Line) string { return l.InvoiceID }), "InvoiceIssuerName": str(func(l *transform.Line) string { return l.InvoiceIssuerName }),
	"ListCost": func(l *transform.Line) string { return l.ListCost.String() }, "PricingCurrency": str(func(l *transform.Line) string { return l.PricingCurrency }),
	"PricingCurrencyEffectiveCost": nd(func(l *transform.Line) transform.NullDecimal { return l.PricingCurrencyEffectiveCost }),
	"PricingQuantity":              nd(func(l *transform.Line) transform.NullDecimal { return l.PricingQuantity }), "PricingUnit": str(func(l *transform.Line) string { return l.PricingUnit }),
	"ProviderName": str(func(l *transform.Line) string { return l.ProviderName }), "PublisherName": str(func(l *transform.Line) string { return l.PublisherName }),
	"RegionId": str(func(l *transform.Line) string { return l.RegionID }), "RegionName": str(func(l *transform.Line) string { return l.RegionName }),
	"ResourceId": str(func(l *transform.Line) string { return l.ResourceID }), "ResourceName": str(func(l *transform.Line) string { return l.ResourceName }),
	"ResourceType": str(func(l *transform.Line) string { return l.ResourceType }), "ServiceCategory": str(func(l *transform.Line) string { return l.ServiceCategory }),
	"ServiceName": str(func(l *transform.Line) string { return l.ServiceName }), "ServiceSubcategory": str(func(l *transform.Line) string { return l.ServiceSubcategory }),
	"SkuId": str(func(l *transform.Line) string { return l.SkuID }), "SkuMeter": str(func(l *transform.Line) string { return l.SkuMeter }),
	"SubAccountId": str(func(l *transform.Line) string { return l.SubAccountID }), "SubAccountName": str(func(l *transform.Line) string { return l.SubAccountName }),
	"Tags": str(func(l *transform.Line) string { return l.Tags }), "x_ChargeId": func(l *transform.Line) string { return l.ChargeID },
	"x_AccountId":     func(*transform.Line) string { return LegacyAccount }, // the unit's account, not the line's
	"x_CloudProvider": str(func(l *transform.Line) string { return l.CloudProvider }),
	"x_Plan":          str(func(l *transform.Line) string { return l.Plan }), "x_Provider": str(func(l *transform.Line) string { return l.Provider }),
	"x_Regions": str(func(l *transform.Line) string { return l.Regions }), "x_SourceEndpoint": str(func(l *transform.Line) string { return l.SourceEndpoint }),
	"x_TenantId":        str(func(l *transform.Line) string { return l.TenantID }),
	"x_VendorUnitPrice": nd(func(l *transform.Line) transform.NullDecimal { return l.VendorUnitPrice }),
}

func str(f func(*transform.Line) string) func(*transform.Line) string {
	return func(l *transform.Line) string {
		if s := f(l); s != "" {
			return s
		}
		return "NULL"
	}
}

func nd(f func(*transform.Line) transform.NullDecimal) func(*transform.Line) string {
	return func(l *transform.Line) string {
		if d := f(l); d.Valid {
			return d.String()
		}
		return "NULL"
	}
}

func tsv(f func(*transform.Line) time.Time) func(*transform.Line) string {
	return func(l *transform.Line) string { return f(l).UTC().Format(time.RFC3339) }
}

// readArrow reads a whole Parquet file with pqarrow: column → row values.
func readArrow(t *testing.T, path string) map[string][]string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	out := map[string][]string{}
	for i := range int(tbl.NumCols()) {
		col := tbl.Column(i)
		for _, chunk := range col.Data().Chunks() {
			for j := range chunk.Len() {
				v := "NULL"
				if chunk.IsValid(j) {
					switch a := chunk.(type) {
					case *array.String:
						v = a.Value(j)
					case *array.Decimal128:
						dt := a.DataType().(*arrow.Decimal128Type)
						d, err := transform.ParseDecimal([]byte(a.Value(j).ToString(dt.Scale)), false)
						if err != nil {
							t.Fatal(err)
						}
						v = d.String()
					case *array.Timestamp:
						v = time.UnixMicro(int64(a.Value(j))).UTC().Format(time.RFC3339)
					case *array.Boolean:
						v = fmt.Sprint(a.Value(j))
					case *array.Int64:
						v = fmt.Sprint(a.Value(j))
					default:
						t.Fatalf("column %s: unexpected Arrow type %T", col.Name(), chunk)
					}
				}
				out[col.Name()] = append(out[col.Name()], v)
			}
		}
	}
	return out
}

func writePartition(t *testing.T, sink Sink, lines []transform.Line, invoices []transform.Invoice) *Manifest {
	t.Helper()
	s := &Store{Sink: sink, RunID: "run-1", AsOf: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}
	p, err := s.Begin(context.Background(), october10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range lines {
		if err := p.Write(&lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	m, err := p.Commit(&transform.Result{Invoices: invoices})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var sampleInvoice = transform.Invoice{
	Provider: "warpstream", BillingAccountID: "default", Currency: "USD", Status: "final", Final: true, Reconciled: true,
	BillingPeriodStart: october.Start(), BillingPeriodEnd: october.End(), SourceEndpoint: "get_past_invoice",
	VendorTotal: transform.MustDecimal("22.77"), LinesTotal: transform.MustDecimal("22.77"), RoundingAdjustment: transform.MustDecimal("-0.00012"), Lines: 3,
}

func TestPartitionRoundTripsThroughArrow(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	// More than one batch and more than one row group, plus the edge cases.
	lines := append(syntheticLines(RowGroupRows+batchRows+7), edgeLines()...)
	m := writePartition(t, sink, lines, []transform.Invoice{sampleInvoice})

	got := readArrow(t, filepath.Join(dir, DataKey(ChargeLines.Name, october10)))
	if len(got) != len(ChargeLines.Schema().Fields()) || len(expected) != len(got) {
		t.Fatalf("%d columns read, %d in the schema, %d expected", len(got), len(ChargeLines.Schema().Fields()), len(expected))
	}
	for name, vals := range got {
		want := expected[name]
		if want == nil {
			t.Fatalf("unexpected column %s", name)
		}
		if len(vals) != len(lines) {
			t.Fatalf("%s: %d rows, want %d", name, len(vals), len(lines))
		}
		for i := range lines {
			if w := want(&lines[i]); vals[i] != w {
				t.Fatalf("%s row %d: %q, want %q", name, i, vals[i], w)
			}
		}
	}
	if m.Rows != int64(len(lines)) || m.Files[0].Rows != int64(len(lines)) {
		t.Errorf("manifest rows %d / %d, want %d", m.Rows, m.Files[0].Rows, len(lines))
	}

	inv := readArrow(t, filepath.Join(dir, DataKey(Invoices.Name, october10)))
	for col, want := range map[string]string{"x_Provider": "warpstream", "InvoiceId": "NULL", "InvoiceTotal": "22.77", "RoundingAdjustment": "-0.00012",
		"Reconciled": "true", "IsFinal": "true", "LineCount": "3", "Problem": "NULL", "BillingPeriodEnd": "2026-11-01T00:00:00Z"} {
		if len(inv[col]) != 1 || inv[col][0] != want {
			t.Errorf("invoices.%s = %v, want %s", col, inv[col], want)
		}
	}
}

// The files are what every reader expects: data page v1, Snappy,
// statistics, DECIMAL(38,24) in 16 bytes, INT64 UTC microsecond timestamps.
func TestParquetFileProperties(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	writePartition(t, sink, syntheticLines(5000), []transform.Invoice{sampleInvoice})
	rdr, err := file.OpenParquetFile(filepath.Join(dir, DataKey(ChargeLines.Name, october10)), false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	sc := rdr.MetaData().Schema
	for i := range sc.NumColumns() {
		c := sc.Column(i)
		switch lt := c.LogicalType().(type) {
		case *schema.DecimalLogicalType:
			if lt.Precision() != 38 || lt.Scale() != 24 || c.PhysicalType() != parquet.Types.FixedLenByteArray || c.TypeLength() != 16 {
				t.Errorf("%s: %v %v(%d)", c.Name(), lt, c.PhysicalType(), c.TypeLength())
			}
		case *schema.TimestampLogicalType:
			if !lt.IsAdjustedToUTC() || lt.TimeUnit() != schema.TimeUnitMicros || c.PhysicalType() != parquet.Types.Int64 {
				t.Errorf("%s: %v", c.Name(), lt)
			}
		case schema.StringLogicalType:
		default:
			t.Errorf("%s: unexpected logical type %v", c.Name(), c.LogicalType())
		}
	}
	for g := range rdr.NumRowGroups() {
		rg := rdr.RowGroup(g)
		for i := range rg.NumColumns() {
			cc, _ := rg.MetaData().ColumnChunk(i)
			if cc.Compression() != compress.Codecs.Snappy {
				t.Errorf("column %d: compression %v", i, cc.Compression())
			}
			if ok, err := cc.StatsSet(); !ok || err != nil {
				t.Errorf("column %d: no statistics (%v)", i, err)
			}
			pr, err := rg.GetColumnPageReader(i)
			if err != nil {
				t.Fatal(err)
			}
			for pr.Next() {
				if typ := pr.Page().Type(); typ.String() == "DATA_PAGE_V2" {
					t.Fatalf("column %d has a v2 data page", i)
				}
			}
			if err := pr.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fileSHA(t *testing.T, path string) (string, int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), int64(len(b))
}

// A partition is replaced whole: stale parts go, the manifest lists exactly
// the current files with their rows, sizes and hashes.
func TestCommitReplacesPartitionWhole(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	writePartition(t, sink, syntheticLines(10), nil)
	for _, table := range []string{"charge_lines", "invoices"} {
		stale := filepath.Join(dir, table, "provider=warpstream/billing_period=2026-10/part-00001.parquet")
		os.WriteFile(stale, []byte("old run"), 0o644)
	}
	lines := syntheticLines(7)
	m := writePartition(t, sink, lines, []transform.Invoice{sampleInvoice})
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := []string{
		ManifestKey(october10),
		DataKey(ChargeLines.Name, october10),
		DataKey(Invoices.Name, october10),
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	if len(m.Files) != 2 || m.Rows != 7 || m.Totals["USD"].String() != sum(lines).String() || !m.Final || !m.Reconciled || m.RunID != "run-1" || m.AsOf != "2026-11-03" {
		t.Errorf("manifest = %+v", m)
	}
	for _, f := range m.Files {
		sha, size := fileSHA(t, filepath.Join(dir, f.Key))
		if f.SHA256 != sha || f.Bytes != size {
			t.Errorf("%s: manifest says %s/%d, file is %s/%d", f.Key, f.SHA256, f.Bytes, sha, size)
		}
	}
	// What the manifest file holds is what Commit returned.
	var onDisk Manifest
	b, _ := os.ReadFile(filepath.Join(dir, want[0]))
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Files[0].SHA256 != m.Files[0].SHA256 || onDisk.Totals["USD"] != m.Totals["USD"] {
		t.Errorf("manifest on disk = %+v (%v)", onDisk, err)
	}
}

func sum(lines []transform.Line) transform.Decimal {
	var s transform.Decimal
	for _, l := range lines {
		s, _ = s.Add(l.BilledCost)
	}
	return s
}

// orderSink records the order in which objects become visible or go.
type orderSink struct {
	Sink
	mu  sync.Mutex
	log []string
}

func (o *orderSink) Create(ctx context.Context, key string) (Object, error) {
	obj, err := o.Sink.Create(ctx, key)
	return &orderObject{obj, o, key}, err
}

func (o *orderSink) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		o.note("delete " + k)
	}
	return o.Sink.Delete(ctx, keys...)
}

func (o *orderSink) note(s string) { o.mu.Lock(); o.log = append(o.log, s); o.mu.Unlock() }

type orderObject struct {
	Object
	s   *orderSink
	key string
}

func (o *orderObject) Commit() error { o.s.note("commit " + o.key); return o.Object.Commit() }

// The default account takes over a part written before accounts existed:
// the marker first, the old part gone before the new files appear (a
// reader never sees both), the old manifest last.
func TestManifestIsWrittenAfterDataAndBeforeCleanup(t *testing.T) {
	dir := t.TempDir()
	folder, _ := NewFolder(dir)
	os.MkdirAll(filepath.Join(dir, "charge_lines/provider=warpstream/billing_period=2026-10"), 0o755)
	os.WriteFile(filepath.Join(dir, "charge_lines/provider=warpstream/billing_period=2026-10/part-00007.parquet"), nil, 0o644)
	sink := &orderSink{Sink: folder}
	writePartition(t, sink, syntheticLines(3), nil)
	want := []string{
		"commit " + ManifestKey(october10), // the marker
		"delete charge_lines/provider=warpstream/billing_period=2026-10/part-00007.parquet",
		"commit " + DataKey(ChargeLines.Name, october10),
		"commit " + DataKey(Invoices.Name, october10),
		"commit " + ManifestKey(october10),
		"delete " + LegacyManifestKey("warpstream", october),
	}
	if !slices.Equal(sink.log, want) {
		t.Errorf("order = %q\nwant    %q", sink.log, want)
	}
}

// An aborted partition leaves the previous one exactly as it was, and
// nothing in the tables or the staging folder.
func TestAbortKeepsThePreviousPartition(t *testing.T) {
	dir := t.TempDir()
	sink, _ := NewFolder(dir)
	writePartition(t, sink, syntheticLines(5), []transform.Invoice{sampleInvoice})
	before := snapshot(t, dir)
	s := &Store{Sink: sink, RunID: "run-2", AsOf: time.Now()}
	p, err := s.Begin(context.Background(), october10)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range syntheticLines(batchRows + 1) { // a batch reaches the writer before the abort
		p.Write(&l)
	}
	p.Abort()
	if after := snapshot(t, dir); !sameFiles(before, after) {
		t.Errorf("abort changed the output:\nbefore %v\nafter  %v", before, after)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, stagingDir)); len(entries) != 0 {
		t.Errorf("staging not cleaned: %v", entries)
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			sha, _ := fileSHA(t, p)
			rel, _ := filepath.Rel(dir, p)
			out[rel] = sha
		}
		return nil
	})
	return out
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSameRowsSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		sink, _ := NewFolder(d)
		writePartition(t, sink, syntheticLines(3000), []transform.Invoice{sampleInvoice})
	}
	sa, sb := snapshot(t, a), snapshot(t, b)
	for k := range sa {
		if strings.HasSuffix(k, ".parquet") && sa[k] != sb[k] {
			t.Errorf("%s differs between identical writes", k)
		}
	}
}

// A line missing a FOCUS-mandatory value is a bug upstream: writing it fails.
func TestRequiredColumnsAreEnforced(t *testing.T) {
	sink, _ := NewFolder(t.TempDir())
	s := &Store{Sink: sink, RunID: "r", AsOf: time.Now()}
	p, _ := s.Begin(context.Background(), october10)
	defer p.Abort()
	for _, unset := range []func(*transform.Line){
		func(l *transform.Line) { l.ServiceCategory = "" },
		func(l *transform.Line) { l.ChargeID = "" }, // x_ChargeId
	} {
		l := syntheticLines(1)[0]
		unset(&l)
		var err error
		for range batchRows { // the check runs per row, before batching
			if err = p.Write(&l); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), "missing a required column") {
			t.Fatalf("err = %v", err)
		}
	}
}

// The folder sink never shows a partial object and reads what it wrote.
func TestFolderSink(t *testing.T) {
	dir := t.TempDir()
	f, _ := NewFolder(dir)
	ctx := context.Background()
	obj, _ := f.Create(ctx, "a/b=1/x.json")
	obj.Write([]byte("hello"))
	if _, err := os.Stat(filepath.Join(dir, "a/b=1/x.json")); err == nil {
		t.Fatal("object visible before Commit")
	}
	if err := obj.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := f.Open(ctx, "a/b=1/x.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(b, []byte("hello")) {
		t.Fatalf("read %q", b)
	}
	keys, _ := f.List(ctx, "a/")
	if !slices.Equal(keys, []string{"a/b=1/x.json"}) {
		t.Fatalf("list = %v", keys)
	}
	if err := f.Delete(ctx, "a/b=1/x.json", "a/b=1/missing.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/b=1")); err == nil {
		t.Error("empty partition folder left behind")
	}
	if _, err := f.Open(ctx, "nope.json"); err == nil {
		t.Error("opening a missing key did not fail")
	}
}

// NULL stays NULL whatever the pattern of values around it: parquet-go
// v0.32.0 turns some NULLs of an optional string field into "" (see
// scratch), which the pointer fields avoid. The patterns end with NULLs
// after values, in full and partial 64-row words and batches.
func TestNullStringsStayNull(t *testing.T) {
	for _, n := range []int{3, 5, 65, 130, batchRows + 3, 2*batchRows + 63} {
		dir := t.TempDir()
		sink, _ := NewFolder(dir)
		lines := syntheticLines(n)
		for i := range lines {
			if i%2 == 1 || i%5 == 0 && i > 0 {
				lines[i].PricingCurrency = "CRDB_CLOUD_CREDITS"
				lines[i].PricingCurrencyEffectiveCost = transform.Some(transform.MustDecimal("1"))
				lines[i].InvoiceID = fmt.Sprint("inv-", i%4)
			}
		}
		lines[n-1].PricingCurrency, lines[n-1].PricingCurrencyEffectiveCost, lines[n-1].InvoiceID = "", transform.NullDecimal{}, ""
		writePartition(t, sink, lines, nil)
		got := readArrow(t, filepath.Join(dir, DataKey(ChargeLines.Name, october10)))
		for i := range lines {
			for col, want := range map[string]string{"PricingCurrency": lines[i].PricingCurrency, "InvoiceId": lines[i].InvoiceID} {
				if want == "" {
					want = "NULL"
				}
				if got[col][i] != want {
					t.Fatalf("%d rows: %s row %d = %q, want %q", n, col, i, got[col][i], want)
				}
			}
		}
	}
}
