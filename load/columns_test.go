package load

import (
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// column is a column as BenchmarkWriters' Arrow schema reads it.
type column struct {
	Name     string
	GlueType string // "string", "timestamp", "decimal(38,24)", "bigint", "boolean"
	Required bool
}

// Columns lists the table's columns in file order, with their Athena
// types. The docs and the template take theirs from internal/docgen,
// which this package's tests cannot import (it imports load); this copy
// is for the writer benchmark only and is never linked into a program.
func (t Table) Columns() []column {
	var cols []column
	for _, f := range t.schema.Fields() {
		typ := "string"
		var lt format.LogicalTypeValue
		if l := f.Type().LogicalType(); l != nil {
			lt = l.Value
		}
		switch lt.(type) {
		case *format.DecimalType:
			typ = "decimal(38,24)"
		case *format.TimestampType:
			typ = "timestamp"
		default:
			switch f.Type().Kind() {
			case pq.Boolean:
				typ = "boolean"
			case pq.Int64:
				typ = "bigint"
			}
		}
		cols = append(cols, column{Name: f.Name(), GlueType: typ, Required: !f.Optional()})
	}
	return cols
}
