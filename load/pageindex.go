package load

import (
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// The page index of a string column, kept small until the footer.
//
// parquet-go v0.32.0 keeps every page's whole min and max string until the
// file is closed: its indexer truncates them (to 16 bytes) by re-slicing,
// so the row group's ColumnIndex, which the writer holds for the footer,
// still points into a copy of the whole values. For x_ChargeId (about 150
// bytes a line, a page every few hundred lines) that was most of the heap
// that grew with a file's lines: 6.8 MB at 5M lines (docs/performance.md).
// compactIndexer copies the truncated values into a buffer of their own, so
// the file's bytes are the same and the held memory is 16 bytes a bound.
//
// Only columns without a dictionary are retyped: a dictionary column's
// indexer comes from the library's dictionary type, not from the leaf's.

// compactIndexType is a BYTE_ARRAY leaf type whose page index is compacted.
type compactIndexType struct{ pq.Type }

func (t *compactIndexType) NewColumnIndexer(sizeLimit int) pq.ColumnIndexer {
	return &compactIndexer{ColumnIndexer: t.Type.NewColumnIndexer(sizeLimit)}
}

type compactIndexer struct{ pq.ColumnIndexer }

// ColumnIndex is the library's, with its bounds copied out of the buffers
// it would otherwise keep alive.
func (x *compactIndexer) ColumnIndex() format.ColumnIndex {
	ci := x.ColumnIndexer.ColumnIndex()
	n := 0
	for i := range ci.MinValues {
		n += len(ci.MinValues[i]) + len(ci.MaxValues[i])
	}
	buf := make([]byte, 0, n)
	compact := func(values [][]byte) [][]byte {
		out := make([][]byte, len(values))
		for i, v := range values {
			start := len(buf)
			buf = append(buf, v...)
			out[i] = buf[start:len(buf):len(buf)]
		}
		return out
	}
	ci.MinValues = compact(ci.MinValues)
	ci.MaxValues = compact(ci.MaxValues)
	return ci
}

// hasDictionary is whether the leaf n is written with a dictionary.
func hasDictionary(n pq.Node) bool {
	e := n.Encoding()
	return e != nil && (e.Encoding() == format.RLEDictionary || e.Encoding() == format.PlainDictionary)
}
