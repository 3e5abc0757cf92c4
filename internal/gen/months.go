package gen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The sample's October invoices, the templates of every generated month.
const (
	crdbTemplate     = "cockroachdb/invoice/3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04.json"
	crdbTemplateID   = "3b0d7c52-9a4e-4f1b-8c6d-2e5f7a9b1c04"
	scTemplate       = "spectrocloud/invoice/6540e1f2a3b4c5d6e7f80912.json"
	scTemplateID     = "6540e1f2a3b4c5d6e7f80912"
	scPageSize       = 10
	templateStart    = "2026-10-01T00:00:00"
	templateEnd      = "2026-11-01T00:00:00"
	templateDayAfter = "2026-11-02T"
)

// Months writes months consecutive closed months from start of CockroachDB
// and Spectro Cloud captures into dir, each month a copy of the sample's
// October invoice (samples: testdata/captures) with its period and id
// changed: what a backfill fetches, with the vendors' real shapes. The
// invoices reconcile as the sample's do.
func Months(dir, samples string, start time.Time, months int) error {
	for _, f := range []string{"cockroachdb/organization.json", "spectrocloud/users_info.json"} {
		if err := copyFile(filepath.Join(samples, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	crdb, err := os.ReadFile(filepath.Join(samples, crdbTemplate))
	if err != nil {
		return err
	}
	sc, err := os.ReadFile(filepath.Join(samples, scTemplate))
	if err != nil {
		return err
	}
	type crdbListed struct {
		InvoiceID   string `json:"invoice_id"`
		PeriodStart string `json:"period_start"`
		PeriodEnd   string `json:"period_end"`
		Status      string `json:"status"`
	}
	var crdbList []crdbListed
	type scListed struct {
		Metadata struct {
			UID  string `json:"uid"`
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			BillingPeriod struct {
				Start string `json:"start"`
				End   string `json:"end"`
			} `json:"billingPeriod"`
			Month       string `json:"month"`
			PaymentUnit string `json:"paymentUnit"`
		} `json:"spec"`
	}
	var scList []scListed
	for i := range months {
		m := time.Date(start.Year(), start.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC)
		next := m.AddDate(0, 1, 0)
		// Placeholders first, so that one month's end is not taken for the
		// next month's start.
		period := strings.NewReplacer(templateStart, "\x00S", templateEnd, "\x00E", templateDayAfter, "\x00D")
		dates := strings.NewReplacer("\x00S", m.Format("2006-01-02T15:04:05"), "\x00E", next.Format("2006-01-02T15:04:05"),
			"\x00D", next.AddDate(0, 0, 1).Format("2006-01-02T"))

		id := fmt.Sprintf("%s%012x", crdbTemplateID[:24], i)
		body := dates.Replace(period.Replace(strings.ReplaceAll(string(crdb), crdbTemplateID, id)))
		if err := writeBytes(filepath.Join(dir, "cockroachdb", "invoice", id+".json"), body); err != nil {
			return err
		}
		crdbList = append(crdbList, crdbListed{id, m.Format(time.RFC3339), next.Format(time.RFC3339), "FINALIZED"})

		uid := fmt.Sprintf("%s%08x", scTemplateID[:16], i)
		body = dates.Replace(period.Replace(strings.ReplaceAll(string(sc), scTemplateID, uid)))
		if err := writeBytes(filepath.Join(dir, "spectrocloud", "invoice", uid+".json"), body); err != nil {
			return err
		}
		var l scListed
		l.Metadata.UID, l.Metadata.Name = uid, "invoice-"+m.Format("2006-01")
		l.Spec.BillingPeriod.Start, l.Spec.BillingPeriod.End = m.Format("2006-01-02T15:04:05.000Z"), next.Format("2006-01-02T15:04:05.000Z")
		l.Spec.Month, l.Spec.PaymentUnit = l.Spec.BillingPeriod.Start, "usd"
		scList = append(scList, l)
	}
	b, _ := json.MarshalIndent(map[string]any{"invoices": crdbList}, "", "  ")
	if err := writeBytes(filepath.Join(dir, "cockroachdb", "invoices.json"), string(b)); err != nil {
		return err
	}
	// Palette pages its list; the continue token of page n opens page n+1.
	for n := 0; n*scPageSize < len(scList); n++ {
		page := scList[n*scPageSize : min(len(scList), (n+1)*scPageSize)]
		token := ""
		if (n+1)*scPageSize < len(scList) {
			token = fmt.Sprintf("page-%d", n+2)
		}
		b, _ := json.MarshalIndent(map[string]any{"invoices": page, "listmeta": map[string]any{"continue": token, "count": len(page)}}, "", "  ")
		if err := writeBytes(filepath.Join(dir, "spectrocloud", "invoices", fmt.Sprintf("%04d.json", n+1)), string(b)); err != nil {
			return err
		}
	}
	return nil
}

func writeBytes(path, body string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o644)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeBytes(dst, string(b))
}
