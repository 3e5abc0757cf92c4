package load

import (
	"cmp"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"
)

// columnEncoder encodes rows of T into a GenericWriter's column writers with
// the columns spread over GOMAXPROCS goroutines: each column of a Parquet
// row group is its own dictionary, page buffer and compressed pages
// (pq.ColumnWriter), so columns can be encoded side by side and the file
// still comes out in the order the writer lays it out.
//
// parquet-go v0.32.0 has no parallel encoding of its own, so this is
// built on its ColumnWriters. Its BeginRowGroup (ConcurrentRowGroupWriter)
// takes only generic Rows, and encoding whole row groups side by side would
// hold two or more row groups of compressed pages (about 11 MB each for
// lines) instead of one. Columns in parallel keep the serial writer's
// memory: one row group.
//
// The file is the same byte for byte as GenericWriter.Write's
// (TestParallelEncoderBytes): every column receives the same values, cut
// into the same pieces as GenericWriter.Write cuts them (at most 64 rows,
// and never across a row group), and each column writer ends a page when
// its buffer passes the page size, as GenericWriter.Write does after each
// piece (pq.ColumnWriter.WriteRowValues). Row groups are flushed by the
// GenericWriter itself, from the encoder's goroutine, when all columns
// have their rows. TestParallelEncoderBytes fails if a parquet-go upgrade
// changes how GenericWriter.Write cuts rows or ends pages.
//
// Fields are read at their offsets (unsafe) with a loop per kind of column:
// a reflect.Value per value would cost more than the rest of the encoding.
type columnEncoder[T any] struct {
	w       *pq.GenericWriter[T]
	cols    []encColumn
	maxRows int // rows in a row group (pq.MaxRowsPerRowGroup)
	inGroup int // rows in the current row group

	// One step: every column encodes the pieces of rows that end at
	// chunks[0], chunks[1], ...; goroutines take columns from order,
	// next being the first not taken.
	rows   unsafe.Pointer
	chunks []int
	order  []int // columns, costliest (in the previous step) first
	next   atomic.Int64
	errMu  sync.Mutex
	err    error
	wg     sync.WaitGroup
	helper []chan struct{}        // one per helper goroutine: start a step
	vals   [maxChunkRows]pq.Value // the encoder goroutine's
}

// encColumn is one leaf column: where its value sits in a row of T, and
// its writer.
type encColumn struct {
	w        *pq.ColumnWriter
	kind     encKind
	offset   uintptr
	index    int // leaf column index
	optional bool
	size     int           // FIXED_LEN_BYTE_ARRAY length
	cost     time.Duration // of the previous step
}

type encKind uint8

const (
	encString encKind = iota // string, *string
	encFixed                 // [n]byte, *[n]byte
	encInt64                 // int64
	encBool                  // bool
)

// maxChunkRows is the largest piece GenericWriter.Write hands its columns
// at once (ConcurrentRowGroupWriter.writeRows in parquet-go v0.32.0): page
// ends fall between pieces, so the pieces must be the same.
const maxChunkRows = 64

// newColumnEncoder encodes into w, which must have been made with config's
// options and be written to through the encoder only. T's fields must be
// the schema's leaf columns: strings, fixed-size byte arrays, int64 and
// bool, pointers for the optional ones (chargeRow, invoiceRow).
func newColumnEncoder[T any](w *pq.GenericWriter[T], config *pq.WriterConfig) *columnEncoder[T] {
	e := &columnEncoder[T]{w: w, maxRows: int(min(config.MaxRowsPerRowGroup, int64(^uint(0)>>1)))}
	writers := w.ColumnWriters()
	fields := fieldsByColumn(reflect.TypeFor[T]())
	schema := w.Schema()
	for i, path := range schema.Columns() {
		leaf, _ := schema.Lookup(path...)
		f, ok := fields[path[0]]
		if len(path) != 1 || !ok {
			panic(fmt.Sprintf("load: column %s is not a field of %v", strings.Join(path, "."), reflect.TypeFor[T]()))
		}
		c := encColumn{w: writers[i], offset: f.Offset, index: leaf.ColumnIndex, optional: leaf.MaxDefinitionLevel > 0}
		t := f.Type
		if t.Kind() == reflect.Pointer {
			if !c.optional {
				panic(fmt.Sprintf("load: field %s is a pointer but column %s is required", f.Name, path[0]))
			}
			t = t.Elem()
		} else if c.optional {
			// An optional column needs NULLs: a pointer (see scratch).
			panic(fmt.Sprintf("load: column %s is optional but field %s is not a pointer", path[0], f.Name))
		}
		switch {
		case t.Kind() == reflect.String:
			c.kind = encString
		case t.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8:
			c.kind, c.size = encFixed, t.Len()
		case t.Kind() == reflect.Int64 && !c.optional:
			c.kind = encInt64
		case t.Kind() == reflect.Bool && !c.optional:
			c.kind = encBool
		default:
			panic(fmt.Sprintf("load: field %s of type %v has no column encoder", f.Name, f.Type))
		}
		e.cols = append(e.cols, c)
		e.order = append(e.order, i)
	}
	e.helper = make([]chan struct{}, runtime.GOMAXPROCS(0)-1)
	for i := range e.helper {
		start := make(chan struct{})
		e.helper[i] = start
		go func() {
			var vals [maxChunkRows]pq.Value
			for range start {
				e.work(&vals)
				e.wg.Done()
			}
		}()
	}
	return e
}

// fieldsByColumn maps column names (a parquet tag's first part, or the
// field's name) to T's fields.
func fieldsByColumn(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		fields[cmp.Or(name, f.Name)] = f
	}
	return fields
}

// write encodes rows after the ones before, cutting them as
// GenericWriter.Write does: pieces of at most 64 rows, none across a row
// group, and the full row group flushed when the next row comes.
func (e *columnEncoder[T]) write(rows []T) error {
	for len(rows) > 0 {
		e.chunks = e.chunks[:0]
		n := 0
		for n < len(rows) && e.inGroup < e.maxRows {
			k := min(len(rows)-n, e.maxRows-e.inGroup, maxChunkRows)
			n += k
			e.inGroup += k
			e.chunks = append(e.chunks, n)
		}
		if n > 0 {
			if err := e.step(unsafe.Pointer(&rows[0])); err != nil {
				return err
			}
			rows = rows[n:]
		}
		if len(rows) > 0 {
			if err := e.w.Flush(); err != nil {
				return err
			}
			e.inGroup = 0
		}
	}
	return nil
}

// step encodes e.chunks of rows on every goroutine, the encoder's own too,
// and returns when every column is done.
func (e *columnEncoder[T]) step(rows unsafe.Pointer) error {
	e.rows = rows
	e.next.Store(0)
	e.wg.Add(len(e.helper))
	for _, start := range e.helper {
		start <- struct{}{}
	}
	e.work(&e.vals)
	e.wg.Wait()
	// Costliest first next time, so that no long column is left for last
	// while the other goroutines wait.
	slices.SortStableFunc(e.order, func(a, b int) int { return cmp.Compare(e.cols[b].cost, e.cols[a].cost) })
	return e.err
}

// work encodes columns until none is left in this step.
func (e *columnEncoder[T]) work(vals *[maxChunkRows]pq.Value) {
	for {
		i := int(e.next.Add(1) - 1)
		if i >= len(e.order) {
			return
		}
		c := &e.cols[e.order[i]]
		t := time.Now()
		err := e.encode(c, vals)
		c.cost = time.Since(t)
		if err != nil {
			e.errMu.Lock()
			if e.err == nil {
				e.err = fmt.Errorf("encoding column %d: %w", c.index, err)
			}
			e.errMu.Unlock()
		}
	}
}

// encode hands column c its values of this step's rows, piece by piece.
// The values point into the rows, which stay put until the step returns;
// the column writer copies them.
func (e *columnEncoder[T]) encode(c *encColumn, vals *[maxChunkRows]pq.Value) error {
	stride := unsafe.Sizeof(*new(T))
	from := 0
	for _, to := range e.chunks {
		v := vals[:to-from]
		c.values(v, unsafe.Add(e.rows, uintptr(from)*stride+c.offset), stride)
		if _, err := c.w.WriteRowValues(v); err != nil {
			return err
		}
		from = to
	}
	return nil
}

// values sets v to the column's values in the fields at p, p+stride, ...
// A loop per kind keeps the switch out of the loop: building the values
// is a quarter of the encoder's time otherwise. Only the definition level
// is set (1 for an optional column's values, 0 for NULLs and required
// columns): column buffers read neither the repetition level of a flat
// column nor the column index (TestParallelEncoderBytes).
func (c *encColumn) values(v []pq.Value, p unsafe.Pointer, stride uintptr) {
	at := func(i int) unsafe.Pointer { return unsafe.Add(p, uintptr(i)*stride) }
	switch {
	case c.kind == encString && !c.optional:
		for i := range v {
			s := *(*string)(at(i))
			v[i] = pq.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
		}
	case c.kind == encString:
		for i := range v {
			if s := *(**string)(at(i)); s != nil {
				v[i] = pq.ByteArrayValue(unsafe.Slice(unsafe.StringData(*s), len(*s)))
				v[i].SetDefinitionLevel(1)
			} else {
				v[i] = pq.Value{}
			}
		}
	case c.kind == encFixed && !c.optional:
		for i := range v {
			v[i] = pq.FixedLenByteArrayValue(unsafe.Slice((*byte)(at(i)), c.size))
		}
	case c.kind == encFixed:
		for i := range v {
			if b := *(**byte)(at(i)); b != nil {
				v[i] = pq.FixedLenByteArrayValue(unsafe.Slice(b, c.size))
				v[i].SetDefinitionLevel(1)
			} else {
				v[i] = pq.Value{}
			}
		}
	case c.kind == encInt64:
		for i := range v {
			v[i] = pq.Int64Value(*(*int64)(at(i)))
		}
	case c.kind == encBool:
		for i := range v {
			v[i] = pq.BooleanValue(*(*bool)(at(i)))
		}
	}
}

// close ends the helper goroutines.
func (e *columnEncoder[T]) close() {
	for _, start := range e.helper {
		close(start)
	}
	e.helper = nil
}
