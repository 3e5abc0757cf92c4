package load

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"reflect"
	"sync"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// Statistics of DECIMAL columns in signed order.
//
// The Parquet spec orders DECIMAL values as signed numbers; stored in a
// FIXED_LEN_BYTE_ARRAY they are big-endian two's complement. parquet-go
// v0.32.0 compares them as unsigned bytes (parquet-go/parquet-go#592, fixed
// by #595 after v0.32.0), so every negative value sorted above every
// positive one: a column with both signs had min > max in its chunk
// statistics (BilledCost min 0, max -250) and wrong bounds, and possibly a
// wrong boundary order, in its page index. Readers that prune with them
// (Athena, Trino, Spark) could skip the credit lines, or reject the file.
//
// The unsigned order reaches the statistics by three paths, each replaced
// here for the decimal columns of the writer's schema (writerSchema):
//
//   - a page's Bounds(), which feed the page index, the chunk statistics
//     and the (deprecated) page header statistics: the column buffers and
//     their pages are wrapped (signedBuffer, signedPage);
//   - the column type's Compare, which merges the pages' bounds into the
//     chunk's min and max (ColumnWriter.recordPageStats);
//   - the column indexer, which keeps every page's min and max and derives
//     the BoundaryOrder (signedIndexer).
//
// The data pages and the schema written to the file are unchanged: the
// wrapper type has the same physical type, length and logical type, so the
// files differ only in their statistics (and in the page index of a page of
// NULLs, which now has the empty min and max the spec asks for).
//
// Not covered, because the writer never takes them with this schema:
// dictionary-encoded decimals (their bounds would come from the library's
// dictionary: NewDictionary panics rather than write them), in-memory reads
// of a column buffer (its ColumnIndex and Pages are the library's), and
// sorting writers (Less is signed, but sorting columns are not).

// signedDecimal is a DECIMAL leaf type whose values compare as signed
// big-endian two's complement. The embedded type is the library's decimal
// type, which does everything else.
type signedDecimal struct{ pq.Type }

func (t *signedDecimal) Compare(a, b pq.Value) int {
	return compareSigned(a.ByteArray(), b.ByteArray())
}

func (t *signedDecimal) NewColumnIndexer(int) pq.ColumnIndexer {
	// Values are kept whole: 16 bytes, and a truncated decimal would need
	// rounding in signed order. The library's indexer for 16-byte values
	// ignores the size limit too.
	return &signedIndexer{size: t.Length()}
}

func (t *signedDecimal) NewColumnBuffer(columnIndex, numValues int) pq.ColumnBuffer {
	return &signedBuffer{ColumnBuffer: t.Type.NewColumnBuffer(columnIndex, numValues)}
}

func (t *signedDecimal) NewPage(columnIndex, numValues int, data encoding.Values) pq.Page {
	return &signedPage{Page: t.Type.NewPage(columnIndex, numValues, data)}
}

// NewDictionary is refused: a dictionary-encoded column's page bounds come
// from the library's dictionary, in unsigned order. No decimal column is
// tagged dict.
func (t *signedDecimal) NewDictionary(int, int, encoding.Values) pq.Dictionary {
	panic("load: dictionary-encoded DECIMAL columns would get unsigned statistics (parquet-go v0.32.0)")
}

// signedBuffer is a column buffer whose pages have signed bounds. The
// embedded interface carries the buffer's unexported methods, through which
// the writer fills it.
type signedBuffer struct {
	pq.ColumnBuffer
	page signedPage
}

// Page is a view of the buffer, like the library's: the same page until
// the buffer changes, with no allocation per page.
func (b *signedBuffer) Page() pq.Page {
	b.page.Page = b.ColumnBuffer.Page()
	return &b.page
}

func (b *signedBuffer) Clone() pq.ColumnBuffer {
	return &signedBuffer{ColumnBuffer: b.ColumnBuffer.Clone()}
}

func (b *signedBuffer) Less(i, j int) bool {
	d := b.ColumnBuffer.Page().Data()
	data, size := d.FixedLenByteArray()
	return compareSigned(data[i*size:(i+1)*size], data[j*size:(j+1)*size]) < 0
}

// signedPage is a page of fixed-length decimals whose bounds are in signed
// order.
type signedPage struct{ pq.Page }

func (p *signedPage) Bounds() (min, max pq.Value, ok bool) {
	d := p.Page.Data()
	data, size := d.FixedLenByteArray()
	if size <= 0 || len(data) < size {
		return min, max, false
	}
	lo, hi := signedBounds(data, size)
	col := p.Page.Column()
	min = pq.FixedLenByteArrayValue(data[lo*size:(lo+1)*size:(lo+1)*size]).Level(0, 0, col)
	max = pq.FixedLenByteArrayValue(data[hi*size:(hi+1)*size:(hi+1)*size]).Level(0, 0, col)
	return min, max, true
}

func (p *signedPage) Slice(i, j int64) pq.Page { return &signedPage{Page: p.Page.Slice(i, j)} }

// signedBounds returns the indexes of the least and the greatest of the
// size-byte values in data (at least one), in signed order; the first of
// equal values.
func signedBounds(data []byte, size int) (lo, hi int) {
	if size != 16 {
		n := len(data) / size
		for i := 1; i < n; i++ {
			v := data[i*size : (i+1)*size]
			if compareSigned(v, data[lo*size:(lo+1)*size]) < 0 {
				lo = i
			} else if compareSigned(v, data[hi*size:(hi+1)*size]) > 0 {
				hi = i
			}
		}
		return lo, hi
	}
	// 16 bytes: a signed high half and an unsigned low half.
	n := len(data) / 16
	minH, minL := be128(data, 0)
	maxH, maxL := minH, minL
	for i := 1; i < n; i++ {
		h, l := be128(data, i)
		if h < minH || (h == minH && l < minL) {
			minH, minL, lo = h, l, i
		} else if h > maxH || (h == maxH && l > maxL) {
			maxH, maxL, hi = h, l, i
		}
	}
	return lo, hi
}

func be128(data []byte, i int) (int64, uint64) {
	v := data[i*16 : i*16+16]
	return int64(binary.BigEndian.Uint64(v[:8])), binary.BigEndian.Uint64(v[8:])
}

// compareSigned compares two big-endian two's complement integers; the
// shorter is sign-extended. An empty value (a null) sorts first.
func compareSigned(a, b []byte) int {
	if len(a) == 0 || len(b) == 0 {
		return cmp.Compare(len(a), len(b))
	}
	negA, negB := a[0]&0x80 != 0, b[0]&0x80 != 0
	switch {
	case negA && !negB:
		return -1
	case negB && !negA:
		return +1
	}
	// Same sign: with the same length, unsigned order is signed order.
	var ext byte
	if negA {
		ext = 0xFF
	}
	for len(a) < len(b) {
		if b[0] != ext {
			return cmp.Compare(ext, b[0])
		}
		b = b[1:]
	}
	for len(b) < len(a) {
		if a[0] != ext {
			return cmp.Compare(a[0], ext)
		}
		a = a[1:]
	}
	return bytes.Compare(a, b)
}

// signedIndexer is the page index (ColumnIndex) of a decimal column: every
// page's min and max, and a BoundaryOrder in signed order. Unlike the
// library's indexer for 16-byte values, a page of nulls only gets empty
// min and max entries, as the spec asks, so that the lists all have one
// entry per page.
type signedIndexer struct {
	size       int
	nullPages  []bool
	nullCounts []int64
	bounds     []byte // min then max of every page, zeros for null pages
}

func (x *signedIndexer) Reset() {
	x.nullPages = x.nullPages[:0]
	x.nullCounts = x.nullCounts[:0]
	x.bounds = x.bounds[:0]
}

func (x *signedIndexer) IndexPage(numValues, numNulls int64, min, max pq.Value) {
	null := numValues == numNulls
	x.nullPages = append(x.nullPages, null)
	x.nullCounts = append(x.nullCounts, numNulls)
	n := len(x.bounds)
	x.bounds = append(x.bounds, make([]byte, 2*x.size)...)
	if !null {
		copy(x.bounds[n:n+x.size], min.ByteArray())
		copy(x.bounds[n+x.size:], max.ByteArray())
	}
}

// ColumnIndex returns a copy: the writer keeps it after Reset.
func (x *signedIndexer) ColumnIndex() format.ColumnIndex {
	n := len(x.nullPages)
	bounds := bytes.Clone(x.bounds)
	mins := make([][]byte, n)
	maxs := make([][]byte, n)
	var minsSet, maxsSet [][]byte // of the pages that have values
	for i := range n {
		if x.nullPages[i] {
			mins[i], maxs[i] = []byte{}, []byte{}
			continue
		}
		j := 2 * i * x.size
		mins[i] = bounds[j : j+x.size : j+x.size]
		maxs[i] = bounds[j+x.size : j+2*x.size : j+2*x.size]
		minsSet = append(minsSet, mins[i])
		maxsSet = append(maxsSet, maxs[i])
	}
	order := format.Unordered
	switch minOrder, maxOrder := signedOrder(minsSet), signedOrder(maxsSet); {
	case minOrder > 0 && maxOrder > 0:
		order = format.Ascending
	case minOrder < 0 && maxOrder < 0:
		order = format.Descending
	}
	return format.ColumnIndex{
		NullPages:     append([]bool(nil), x.nullPages...),
		NullCounts:    append([]int64(nil), x.nullCounts...),
		MinValues:     mins,
		MaxValues:     maxs,
		BoundaryOrder: order,
	}
}

// signedOrder is +1 if the values never decrease, -1 if they never
// increase (and do not all stay equal), 0 otherwise or if there are fewer
// than two: what the library's indexers say, in signed order.
func signedOrder(values [][]byte) int {
	if len(values) < 2 {
		return 0
	}
	asc, desc := true, true
	for i := 1; i < len(values); i++ {
		switch c := compareSigned(values[i-1], values[i]); {
		case c < 0:
			desc = false
		case c > 0:
			asc = false
		}
	}
	switch {
	case asc:
		return +1
	case desc:
		return -1
	}
	return 0
}

// writerSchema is the schema parquet-go derives from the row struct T, with
// its DECIMAL leaves typed signedDecimal and its strings without a
// dictionary typed compactIndexType (pageindex.go): the same columns, in the same
// order, with the same names, repetition, encodings and types as written
// to the file. It is EqualNodes to pq.SchemaOf(T), so the writer keeps its
// fast path that maps struct fields straight to columns.
func writerSchema[T any]() *pq.Schema {
	t := reflect.TypeFor[T]()
	if s, ok := writerSchemas.Load(t); ok {
		return s.(*pq.Schema)
	}
	orig := pq.SchemaOf(reflect.New(t).Elem().Interface())
	root, _ := retypeLeaves(orig)
	s := pq.NewSchema(orig.Name(), root)
	v, _ := writerSchemas.LoadOrStore(t, s)
	return v.(*pq.Schema)
}

var writerSchemas sync.Map // reflect.Type → *pq.Schema

// retypeLeaves returns n with its DECIMAL leaves over FIXED_LEN_BYTE_ARRAY
// typed signedDecimal and its strings without a dictionary typed
// compactIndexType (pageindex.go), and whether it had any.
func retypeLeaves(n pq.Node) (pq.Node, bool) {
	if n.Leaf() {
		typ := n.Type()
		if lt := typ.LogicalType(); lt != nil && typ.Kind() == pq.FixedLenByteArray {
			if _, ok := lt.Value.(*format.DecimalType); ok {
				return &retypedNode{Node: n, typ: &signedDecimal{Type: typ}}, true
			}
		}
		if typ.Kind() == pq.ByteArray && !hasDictionary(n) {
			return &retypedNode{Node: n, typ: &compactIndexType{Type: typ}}, true
		}
		return n, false
	}
	fields := n.Fields()
	out := make([]pq.Field, len(fields))
	changed := false
	for i, f := range fields {
		out[i] = f
		if m, ok := retypeLeaves(f); ok {
			out[i] = &retypedField{Field: f, node: m}
			changed = true
		}
	}
	if !changed {
		return n, false
	}
	return &group{Node: n, fields: out}, true
}

// retypedNode is a leaf with another type.
type retypedNode struct {
	pq.Node
	typ pq.Type
}

func (n *retypedNode) Type() pq.Type { return n.typ }

// retypedField is a field (name, Go value) whose node is another.
type retypedField struct {
	pq.Field
	node pq.Node
}

func (f *retypedField) Type() pq.Type      { return f.node.Type() }
func (f *retypedField) Fields() []pq.Field { return f.node.Fields() }

// group is a group with other fields, in the same order (pq.Group would
// sort them by name).
type group struct {
	pq.Node
	fields []pq.Field
}

func (g *group) Fields() []pq.Field { return g.fields }
