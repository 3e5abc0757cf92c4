package load

import (
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	pq "github.com/parquet-go/parquet-go"

	"github.com/invoice-export/invoice-export/transform"
)

// syntheticLines makes n WarpStream-like daily lines: many clusters, a few
// products, 31 days, quantities with 16-17 significant digits.
func syntheticLines(n int) []transform.Line {
	rng := rand.New(rand.NewPCG(1, 2))
	products := []string{"Cluster minutes", "Uncompressed GiB written - Tier 1", "Uncompressed GiB written - Tier 2", "GiB minutes"}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	out := make([]transform.Line, n)
	for i := range out {
		cluster := i / (31 * len(products))
		product := products[(i/31)%len(products)]
		day := start.AddDate(0, 0, i%31)
		q := transform.MustDecimal(strconv.FormatFloat(rng.Float64()*2000, 'g', -1, 64))
		t := transform.MustDecimal(strconv.FormatFloat(float64(rng.IntN(10_000_000))/1e5, 'f', -1, 64))
		out[i] = transform.Line{
			BilledCost: t, EffectiveCost: t, ListCost: t, ContractedCost: t,
			BillingAccountID: "default", BillingCurrency: "USD",
			BillingPeriodStart: start, BillingPeriodEnd: start.AddDate(0, 1, 0),
			ChargeCategory: transform.Usage, ChargeFrequency: transform.UsageBased,
			ChargeDescription: product, SkuID: product, SkuMeter: product,
			ChargePeriodStart: day, ChargePeriodEnd: day.AddDate(0, 0, 1),
			ConsumedQuantity: transform.Some(q), PricingQuantity: transform.Some(q), ConsumedUnit: "Minutes", PricingUnit: "Minutes",
			InvoiceIssuerName: "WarpStream", ProviderName: "WarpStream", PublisherName: "WarpStream", ServiceName: "WarpStream",
			ServiceCategory: "Analytics", ServiceSubcategory: "Streaming Analytics",
			RegionID: "us-east-1", RegionName: "us-east-1", Regions: `["us-east-1"]`,
			ResourceID:   fmt.Sprintf("vci_%08x_8e6d_4ad9_b27a_654ed4aaa3ee", cluster),
			ResourceName: fmt.Sprintf("vcn_cluster_%d", cluster), ResourceType: "Virtual Cluster",
			SubAccountID: fmt.Sprintf("wi_%08x_6520_49be_97e5_d65b11f978f6", cluster/10), SubAccountName: "production",
			TenantID: "ti_5a0c2f7e_3b1d_4c8e_9f20_7d6e1a4b8c31", Provider: "warpstream", SourceEndpoint: "get_invoice_breakdowns",
			VendorUnitPrice: transform.Some(transform.MustDecimal("0.23148")),
		}
		out[i].ChargeID = out[i].TenantID + "/" + out[i].SubAccountID + "/" + out[i].ResourceID + "/" + product + "/" + day.Format("2006-01-02")
	}
	return out
}

// cpuTime is the user and system CPU time of the process so far, in ns:
// every goroutine's, so that a benchmark can report the CPU a line costs
// (this package's tests build on unix only: DuckDB's bindings).
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// arrowWriter is the candidate measured against parquet-go: Arrow builders
// and pqarrow, with the same schema, page version, compression, statistics
// and dictionaries, fed the same rows.
type arrowWriter struct {
	fw   *pqarrow.FileWriter
	rb   *array.RecordBuilder
	app  []func(unsafe.Pointer)
	rows int
}

func newArrowWriter(w io.Writer) (*arrowWriter, error) {
	var fields []arrow.Field
	for _, c := range ChargeLines.Columns() {
		var typ arrow.DataType
		switch c.GlueType {
		case "string":
			typ = arrow.BinaryTypes.String
		case "timestamp":
			typ = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		default:
			typ = &arrow.Decimal128Type{Precision: 38, Scale: 24}
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: typ, Nullable: !c.Required})
	}
	schema := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(parquet.WithDataPageVersion(parquet.DataPageV1), parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithStats(true), parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(RowGroupRows))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	aw := &arrowWriter{fw: fw, rb: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
	// One appender per chargeRow field, reading it at its offset.
	rt := reflect.TypeFor[chargeRow]()
	for i := range rt.NumField() {
		f, b := rt.Field(i), aw.rb.Field(i)
		off := f.Offset
		switch f.Type.Kind() {
		case reflect.String:
			sb := b.(*array.StringBuilder)
			aw.app = append(aw.app, func(p unsafe.Pointer) { sb.Append(*(*string)(unsafe.Add(p, off))) })
		case reflect.Array:
			db := b.(*array.Decimal128Builder)
			aw.app = append(aw.app, func(p unsafe.Pointer) {
				d := transform.DecimalFromBytes16(*(*[16]byte)(unsafe.Add(p, off)))
				db.Append(decimal128.New(d.HiLo()))
			})
		case reflect.Pointer:
			if f.Type.Elem().Kind() == reflect.String {
				sb := b.(*array.StringBuilder)
				aw.app = append(aw.app, func(p unsafe.Pointer) {
					if v := *(**string)(unsafe.Add(p, off)); v != nil {
						sb.Append(*v)
					} else {
						sb.AppendNull()
					}
				})
				continue
			}
			db := b.(*array.Decimal128Builder)
			aw.app = append(aw.app, func(p unsafe.Pointer) {
				if v := *(**[16]byte)(unsafe.Add(p, off)); v != nil {
					d := transform.DecimalFromBytes16(*v)
					db.Append(decimal128.New(d.HiLo()))
				} else {
					db.AppendNull()
				}
			})
		case reflect.Int64:
			tb := b.(*array.TimestampBuilder)
			aw.app = append(aw.app, func(p unsafe.Pointer) { tb.Append(arrow.Timestamp(*(*int64)(unsafe.Add(p, off)))) })
		}
	}
	return aw, nil
}

func (w *arrowWriter) Write(r *chargeRow) error {
	for _, a := range w.app {
		a(unsafe.Pointer(r))
	}
	if w.rows++; w.rows == RowGroupRows {
		return w.flush()
	}
	return nil
}

func (w *arrowWriter) flush() error {
	rec := w.rb.NewRecord()
	defer rec.Release()
	w.rows = 0
	return w.fw.Write(rec)
}

func (w *arrowWriter) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.fw.Close()
}

// BenchmarkWriters writes the same 200,000 lines with both candidates and
// reports time, allocations, lines/s, CPU time a line (every goroutine's,
// from getrusage: on a shared machine it moves less than the wall time)
// and file size:
//
//	go test -run '^$' -bench Writers -benchmem -cpu 1,2 ./load
//
// parquet-go is the writer the Store uses (newPipelinedRowWriter);
// parquet-go-serial is the same file written on the caller's goroutine
// alone (newRowWriter), the reference the parallel encoder must match
// byte for byte (TestParallelEncoderBytes).
//
// A streaming run holds one line at a time, so the lines cycle through a
// small distinct set for speed (the benchmark's own heap would otherwise
// skew garbage collection); sizes are measured on all-distinct lines, made
// after the timed loop for the same reason.
func BenchmarkWriters(b *testing.B) {
	const n = 200_000
	cycle := syntheticLines(4096)
	run := func(b *testing.B, write func(w io.Writer, lines []transform.Line, n int) error) {
		cpu0 := cpuTime(b)
		for b.Loop() {
			if err := write(io.Discard, cycle, n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/(n*float64(b.N)), "cpu-ns/line")
		b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.StopTimer()
		cw := &countingWriter{}
		if err := write(cw, syntheticLines(n), n); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cw.n)/n, "file-bytes/line")
	}
	parquetGo := func(newWriter func(io.Writer, func(*transform.Line, *chargeRow, *scratch) error, ...pq.WriterOption) *rowWriter[chargeRow, transform.Line]) func(io.Writer, []transform.Line, int) error {
		return func(out io.Writer, lines []transform.Line, n int) error {
			w := newWriter(out, toChargeRow)
			for i := range n {
				if err := w.Write(&lines[i%len(lines)]); err != nil {
					w.abort()
					return err
				}
			}
			return w.Close()
		}
	}
	b.Run("parquet-go", func(b *testing.B) {
		run(b, parquetGo(newPipelinedRowWriter[chargeRow, transform.Line]))
	})
	b.Run("parquet-go-serial", func(b *testing.B) {
		run(b, parquetGo(newRowWriter[chargeRow, transform.Line]))
	})
	b.Run("pqarrow", func(b *testing.B) {
		run(b, func(out io.Writer, lines []transform.Line, n int) error {
			w, err := newArrowWriter(out)
			if err != nil {
				return err
			}
			var row chargeRow
			var d scratch
			for i := range n {
				if err := toChargeRow(&lines[i%len(lines)], &row, &d); err != nil {
					return err
				}
				if err := w.Write(&row); err != nil {
					return err
				}
			}
			return w.Close()
		})
	})
}
