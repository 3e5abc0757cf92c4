package extract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// keyRun returns the first run of billing.MinKeyRun bytes of key found in s.
func keyRun(s, key string) string {
	for i := 0; i+billing.MinKeyRun <= len(key); i++ {
		if strings.Contains(s, key[i:i+billing.MinKeyRun]) {
			return key[i : i+billing.MinKeyRun]
		}
	}
	return ""
}

// A vendor's error body is quoted short, and masked wherever its cut falls
// in an echoed key.
func TestErrorBodiesAreQuotedShortAndMasked(t *testing.T) {
	for _, pad := range []int{0, 60, 85, 95, 99, 250} {
		body := `{"error":"` + strings.Repeat("p", pad) + ` ` + testKey + `","help":"` + strings.Repeat("h", 500) + `"}`
		f := newFaultServer(t, body, "400 with the body")
		_, err := testSource(f.URL, HTTPOptions{}).Fetch(context.Background(), wsCall)
		if err == nil || !strings.Contains(err.Error(), `HTTP 400 Bad Request: {"error":"`) {
			t.Fatalf("pad %d: err = %v", pad, err)
		}
		if r := keyRun(err.Error(), testKey); r != "" {
			t.Errorf("pad %d: the error shows %q of the key: %v", pad, r, err)
		}
		if len(err.Error()) > 300 {
			t.Errorf("pad %d: the error is %d bytes: %v", pad, len(err.Error()), err)
		}
	}
}

// A value quoted from a body that holds part of the key (a vendor echoing a
// prefix of it: the scan lets that through) shows none of it: here a
// date-time of a Spectro Cloud list page, which go-json-experiment's error
// quotes whole.
func TestBadValueExcerptMasksTheKey(t *testing.T) {
	list := `{"invoices":[{"metadata":{"uid":"a1"},"spec":{"month":"` + testKey[:40] + `"}}]}`
	b, err := spool(Call{Provider: "spectrocloud", Endpoint: "v1InvoicesList", Capture: "spectrocloud/invoices/0001.json"}, strings.NewReader(list), []Secret{testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var page struct {
		Invoices []struct {
			Spec struct {
				Month time.Time `json:"month"`
			} `json:"spec"`
		} `json:"invoices"`
	}
	err = DecodeSmall(b, "the invoice list", &page)
	if err == nil || !strings.Contains(err.Error(), `expected an RFC 3339 date-time, found "[redacted]"`) {
		t.Fatalf("err = %v", err)
	}
}
