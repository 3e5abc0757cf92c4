package extract

import (
	"context"
	"strings"
	"testing"
)

// keyRun returns the first run of minKeyRun bytes of key found in s.
func keyRun(s, key string) string {
	for i := 0; i+minKeyRun <= len(key); i++ {
		if strings.Contains(s, key[i:i+minKeyRun]) {
			return key[i : i+minKeyRun]
		}
	}
	return ""
}

// An excerpt is at most 100 bytes of valid UTF-8, and shows no run of the
// key long enough to matter, wherever the excerpt's end cuts it.
func TestExcerptIsShortAndMasksTheKey(t *testing.T) {
	for at := 0; at <= 120; at++ {
		v := []byte(strings.Repeat("é", at/2) + strings.Repeat("x", at%2) + testKey + strings.Repeat(" more", 30))
		got := excerpt(v, testKey)
		if r := keyRun(got, testKey); r != "" {
			t.Fatalf("key at byte %d: the excerpt %q shows %q", at, got, r)
		}
		if len(got) > maxExcerpt+len(redacted)+len("…") || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("key at byte %d: excerpt %q (%d bytes)", at, got, len(got))
		}
	}
	if got := excerpt([]byte("2026-13-01"), testKey); got != "2026-13-01" {
		t.Errorf("a short value: %q", got)
	}
	if got := excerpt([]byte("mixed \xff bytes"), ""); got != "mixed \uFFFD bytes" {
		t.Errorf("invalid UTF-8: %q", got)
	}
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
// prefix of it: the scan lets that through) shows none of it.
func TestBadValueExcerptMasksTheKey(t *testing.T) {
	list := `{"invoices":[{"metadata":{"uid":"a1"},"spec":{"month":"` + testKey[:40] + `"}}]}`
	b, err := spool(Call{Provider: SpectroCloud, Endpoint: SpectroListInvoices, Capture: "spectrocloud/invoices/0001.json"}, strings.NewReader(list), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var page struct {
		Invoices []spectroListed `json:"invoices"`
	}
	err = decodeSmall(b, "the invoice list", &page)
	if err == nil || !strings.Contains(err.Error(), `expected an RFC 3339 date-time, found "[redacted]"`) {
		t.Fatalf("err = %v", err)
	}
}
