package load

import (
	"io"
	"os"
	"sync/atomic"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// RowGroupRows bounds a row group. parquet-go keeps the current row group's
// pages compressed in memory (about 50 bytes a line), so this bounds that
// memory at around 6 MB per file being written. DuckDB writes row groups
// of 122,880 rows.
const RowGroupRows = 128 * 1024

// pageBufferSize bounds each column's buffer of values not yet encoded
// into a page (45 columns: about 3 MB in all; parquet-go's default of
// 256 KB holds 11 MB).
const pageBufferSize = 64 * 1024

// batchRows is how many rows are handed to parquet-go at once: its columnar
// write path is fast on batches and slow on single rows.
const batchRows = 1024

// writerOptions are the same for every file: data page v1 and Snappy for
// every reader (Athena, Spark, DuckDB), statistics on, and a fixed
// created_by so that the same rows always give the same bytes.
// The decimal columns' statistics are in signed order by the writer's
// schema (decimal.go), not by an option: parquet-go v0.32.0 gets them wrong.
//
// Statistics are the column chunks' (min, max, null count) and the page
// index (a ColumnIndex with every page's min and max): what Athena, Spark
// and DuckDB prune with. The deprecated copy in each data page header is
// off: parquet-go computes it in a second pass over every page's values
// (Bounds), which cost 17% of the writer's time (BenchmarkWriters).
func writerOptions() []pq.WriterOption {
	return []pq.WriterOption{
		pq.Compression(&snappy.Codec{}),
		pq.DataPageVersion(1),
		pq.DataPageStatistics(false),
		pq.MaxRowsPerRowGroup(RowGroupRows),
		pq.PageBufferSize(pageBufferSize),
		pq.CreatedBy("invoice-export", "1", ""),
	}
}

// rowWriter writes values of S (lines, invoices) as Parquet rows of T. The
// writer was chosen over Arrow's (pqarrow) by measurement: on the same
// 200,000 lines parquet-go wrote 5.5x faster and allocated 88x less
// (BenchmarkWriters; docs/performance.md).
//
// Rows are converted on the caller's goroutine into batches. A pipelined
// writer encodes full batches on goroutines of its own: one takes the
// batches in order and encodes each batch's columns side by side with
// GOMAXPROCS-1 helpers (columnEncoder), so that decoding the next lines and
// encoding the previous ones use every core. The file is the same byte for
// byte as the plain writer's (TestParallelEncoderBytes).
type rowWriter[T, S any] struct {
	w     *pq.GenericWriter[T]
	conv  func(*S, *T, *scratch) error
	cur   *rowBatch[T]
	total int64

	// pipelined only
	spool   *spoolPool // the row group's pages, nil if no file could be made
	enc     *columnEncoder[T]
	batches int               // made so far
	full    chan *rowBatch[T] // to the encoder, in order
	free    chan *rowBatch[T] // back from it
	done    chan struct{}     // closed when the encoder has returned
	failed  atomic.Pointer[error]
}

// rowBatch is rows and the scratch space their nullable columns point at.
type rowBatch[T any] struct {
	rows []T
	scr  []scratch
	n    int
}

func newRowBatch[T any]() *rowBatch[T] {
	return &rowBatch[T]{rows: make([]T, batchRows), scr: make([]scratch, batchRows)}
}

// pipelineDepth is how many batches a pipelined writer owns: one being
// filled, one being encoded, one waiting (about 1 MB each for lines).
const pipelineDepth = 3

// newRowWriter writes rows of T to out on the caller's goroutine. Its
// schema is T's with signed statistics for the decimal columns
// (writerSchema, decimal.go); opts, after writerOptions, are for tests
// (smaller pages and row groups).
func newRowWriter[T, S any](out io.Writer, conv func(*S, *T, *scratch) error, opts ...pq.WriterOption) *rowWriter[T, S] {
	w, _ := newGenericWriter[T](out, opts)
	return &rowWriter[T, S]{w: w, conv: conv, cur: newRowBatch[T]()}
}

// newGenericWriter is parquet-go's writer with the options of every file,
// and their configuration.
func newGenericWriter[T any](out io.Writer, opts []pq.WriterOption) (*pq.GenericWriter[T], *pq.WriterConfig) {
	options := append([]pq.WriterOption{writerSchema[T]()}, writerOptions()...)
	options = append(options, opts...)
	// The options, not the configuration, go to the writer: a
	// *WriterConfig applied as an option ORs DataPageStatistics with the
	// default's.
	config, err := pq.NewWriterConfig(options...)
	if err != nil {
		panic(err) // as pq.NewGenericWriter would: the options are ours
	}
	return pq.NewGenericWriter[T](out, options...), config
}

// newPipelinedRowWriter is a rowWriter whose Parquet encoding runs on
// goroutines of its own. Close or abort must be called to end them.
//
// Its pages wait for the end of their row group in a temporary file
// (spoolPool), or on the heap where none can be made.
func newPipelinedRowWriter[T, S any](out io.Writer, conv func(*S, *T, *scratch) error, opts ...pq.WriterOption) *rowWriter[T, S] {
	spool, err := newSpoolPool(os.TempDir())
	if err == nil {
		opts = append([]pq.WriterOption{pq.ColumnPageBuffers(spool)}, opts...)
	}
	gw, config := newGenericWriter[T](out, opts)
	w := &rowWriter[T, S]{w: gw, conv: conv, cur: newRowBatch[T](), spool: spool, batches: 1}
	w.enc = newColumnEncoder(gw, config)
	w.full = make(chan *rowBatch[T], pipelineDepth)
	w.free = make(chan *rowBatch[T], pipelineDepth)
	w.done = make(chan struct{})
	// The channels are the goroutine's own copies: stop clears w.full.
	full, free, done, enc := w.full, w.free, w.done, w.enc
	go func() {
		defer close(done)
		defer enc.close()
		for b := range full {
			if w.failed.Load() == nil {
				if err := enc.write(b.rows[:b.n]); err != nil {
					w.failed.Store(&err)
				}
			}
			free <- b // after a failure, batches are only handed back
		}
	}()
	return w
}

// Write adds one row; the pointer is not kept.
func (w *rowWriter[T, S]) Write(s *S) error {
	b := w.cur
	if err := w.conv(s, &b.rows[b.n], &b.scr[b.n]); err != nil {
		return err
	}
	b.n++
	w.total++
	if b.n == batchRows {
		return w.flush()
	}
	return nil
}

// flush hands the current batch on: encoded now, or queued for the encoder.
func (w *rowWriter[T, S]) flush() error {
	b := w.cur
	if b.n == 0 {
		return nil
	}
	if w.full == nil {
		_, err := w.w.Write(b.rows[:b.n])
		b.n = 0
		return err
	}
	if err := w.failed.Load(); err != nil {
		return *err
	}
	w.full <- b
	w.cur = w.nextBatch()
	w.cur.n = 0
	return nil
}

// nextBatch is a free batch: one back from the encoder, or a new one until
// the writer has pipelineDepth, so that a file of a few lines holds one.
func (w *rowWriter[T, S]) nextBatch() *rowBatch[T] {
	select {
	case b := <-w.free:
		return b
	default:
	}
	if w.batches < pipelineDepth {
		w.batches++
		return newRowBatch[T]()
	}
	return <-w.free
}

// stop ends a pipelined writer's encoder and returns its error.
func (w *rowWriter[T, S]) stop() error {
	if w.full != nil {
		close(w.full)
		w.full = nil
		<-w.done
	}
	if err := w.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Close writes what is buffered and the footer.
func (w *rowWriter[T, S]) Close() error {
	defer w.release()
	if err := w.flush(); err != nil {
		w.stop()
		return err
	}
	if err := w.stop(); err != nil {
		return err
	}
	return w.w.Close()
}

// abort ends the writer without finishing the file.
func (w *rowWriter[T, S]) abort() {
	w.stop()
	w.release()
}

// release removes the pages' temporary file, once nothing writes pages.
func (w *rowWriter[T, S]) release() {
	if w.spool != nil {
		w.spool.close()
		w.spool = nil
	}
}
