package spectrocloud

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/testkit"
)

// openFiles is the child's limit of open files: far below Lambda's 1,024,
// and below the number of pages a list may have, so that keeping every
// page's spooled file open would fail.
const openFiles = 64

// An endless invoice list (a new continue token on every page) ends with
// one clear error at the page cap, in a process that may hold only
// openFiles files: each page's spooled file is closed once read.
func TestEndlessListUnderALowFileLimit(t *testing.T) {
	if !testkit.InChild() {
		out, _, err := testkit.RunChild(t, t.Name())
		if err != nil || !strings.Contains(out, "--- PASS") {
			t.Fatalf("the child failed (%v):\n%s", err, out)
		}
		return
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = openFiles
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	const key = "SPECTRO-FD-TEST-KEY-0123456789"
	pages := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/users/info" {
			fmt.Fprint(w, `{"tenantUid": "t-1"}`)
			return
		}
		pages++
		n, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		var invs []string
		for i := range 50 {
			invs = append(invs, spInv(fmt.Sprintf("inv-%d-%d", n, i), "2026-10"))
		}
		fmt.Fprintf(w, `{"invoices": [%s], "listmeta": {"continue": "%d", "limit": 50, "offset": %d}}`, strings.Join(invs, ","), n+1, 50*n)
	}))
	defer srv.Close()
	cfg := config(t, map[string]string{"SPECTROCLOUD_API_KEY": key, "SPECTROCLOUD_API_URL": srv.URL})
	src := extract.NewHTTP(map[string]extract.Endpoint{Slug: {URL: srv.URL, Secrets: cfg.Secrets()}}, extract.HTTPOptions{RequestsPerSecond: 1e6})
	jobs, err := Jobs(context.Background(), cfg, src, testkit.Plan("2026-11-03", "2026-10"))
	testkit.CloseJobs(jobs)
	want := fmt.Sprintf("the invoice list goes on past %d pages", extract.MaxListPages)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q (after %d pages)", err, want, pages)
	}
	if pages != extract.MaxListPages {
		t.Errorf("%d pages requested, want %d", pages, extract.MaxListPages)
	}
	if fds, _ := os.ReadDir("/proc/self/fd"); len(fds) > 16 {
		t.Errorf("%d files open after the list was refused", len(fds))
	}
}

// A list naming more than extract.MaxListed invoices, every page
// together, is refused: what listing keeps of each invoice stays bounded.
func TestListNamingTooManyInvoices(t *testing.T) {
	pageOf := func(n int, next string) string {
		var invs []string
		for i := range extract.MaxListed/2 + 1 {
			invs = append(invs, spInv(fmt.Sprintf("inv-%d-%d", n, i), "2026-10"))
		}
		return `{"invoices": [` + strings.Join(invs, ",") + `], "listmeta": {"continue": "` + next + `"}}`
	}
	f := &testkit.Bodies{Bodies: map[string]string{
		"spectrocloud/invoices/0001.json": pageOf(1, "p2"),
		"spectrocloud/invoices/0002.json": pageOf(2, ""),
	}}
	jobs, err := Jobs(context.Background(), config(t, map[string]string{"SPECTROCLOUD_TENANT_UID": "t-1"}), f, testkit.Plan("2026-11-03", "2026-10"))
	testkit.CloseJobs(jobs)
	want := "spectrocloud v1InvoicesList (spectrocloud/invoices/0002.json): the invoice list names more than 5000 invoices"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
