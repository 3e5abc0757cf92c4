package main

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
)

// emitMetrics writes CloudWatch Embedded Metric Format records: CloudWatch
// turns these log lines into metrics, so the alarms in template.yaml cost no
// API call and no extra permission.
func emitMetrics(w io.Writer, function string, providers []string, rep *invoiceexport.Report, took time.Duration) {
	now := time.Now().UnixMilli()
	record := func(dims []string, values map[string]any, metrics ...string) {
		defs := make([]map[string]string, len(metrics))
		for i, m := range metrics {
			unit := "Count"
			switch m {
			case "DurationSeconds":
				unit = "Seconds"
			case "BilledCost":
				unit = "None"
			}
			defs[i] = map[string]string{"Name": m, "Unit": unit}
		}
		values["_aws"] = map[string]any{
			"Timestamp": now,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace": "InvoiceExport", "Dimensions": [][]string{dims}, "Metrics": defs,
			}},
		}
		values["FunctionName"] = function
		b, _ := json.Marshal(values)
		w.Write(append(b, '\n'))
	}
	failed := map[string]bool{}
	for _, f := range rep.Failures {
		failed[f.Provider] = true
	}
	var total int64
	for _, p := range providers {
		var rows int64
		unreconciled := 0
		for _, part := range rep.Partitions {
			if part.Provider == p {
				rows += part.Manifest.Rows
				// A dashboard's figure per partition and currency; the exact
				// sums are in the data and the manifest.
				for cur, sum := range part.Manifest.Totals {
					cost, _ := strconv.ParseFloat(sum.String(), 64)
					record([]string{"FunctionName", "Provider", "BillingPeriod", "Currency"}, map[string]any{
						"Provider": p, "BillingPeriod": part.Period.String(), "Currency": cur, "BilledCost": cost,
					}, "BilledCost")
				}
				unreconciled += part.Unreconciled()
			}
		}
		total += rows
		record([]string{"FunctionName", "Provider"}, map[string]any{
			"Provider": p, "RowsWritten": rows, "UnreconciledInvoices": unreconciled, "Failed": b2i(failed[p]),
		}, "RowsWritten", "UnreconciledInvoices", "Failed")
	}
	record([]string{"FunctionName"}, map[string]any{
		"FailedProviders": len(failed), "UnreconciledInvoices": rep.Unreconciled(),
		"RowsWritten": total, "DurationSeconds": took.Seconds(),
	}, "FailedProviders", "UnreconciledInvoices", "RowsWritten", "DurationSeconds")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
