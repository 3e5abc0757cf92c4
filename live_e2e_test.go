package invoiceexport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/testkit"
	"github.com/invoice-export/invoice-export/load"
)

// A vendor that sends its headers and then stalls every daily-breakdowns
// body fails each of its periods within the call's time limit, after
// retries, with a line naming the vendor, the period and the call; another
// vendor in the same run is written meanwhile.
func TestStalledVendorFailsWithinTheCallTimeout(t *testing.T) {
	caps := sampleDir
	const breakdowns = "/api/v1/billing/invoices/get_invoice_breakdowns"
	ws := testkit.StallingProxy(t, testkit.FakeWarpStream(t, caps, "ws-stall-key-0123", "POST").URL,
		func(r *http.Request) bool { return r.URL.Path == breakdowns })
	env := map[string]string{
		"WARPSTREAM_API_KEY": "ws-stall-key-0123", "WARPSTREAM_API_URL": ws.URL,
		"COCKROACH_API_KEY": "crdb-stall-key-0123", "COCKROACH_API_URL": testkit.FakeCockroachDB(t, caps, "crdb-stall-key-0123").URL,
	}
	cfg, err := invoiceexport.ReadConfigs(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sink, err := load.NewFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	o := invoiceexport.Options{
		AsOf:            time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC),
		Providers:       []string{extract.WarpStream, extract.CockroachDB},
		Config:          cfg,
		Sink:            sink,
		RunID:           "stall",
		RestatementDays: 5,
	}
	const callTimeout = time.Second
	o.Source = invoiceexport.LiveSource(o, extract.HTTPOptions{
		RequestsPerSecond: 1000, Attempts: 100, // the call's time limit ends it, not the attempts
		ReadIdleTimeout: 100 * time.Millisecond, CallTimeout: callTimeout, MaxBackoff: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*callTimeout) // no hang if the limits fail
	defer cancel()
	start := time.Now()
	rep := invoiceexport.Run(ctx, o)
	took := time.Since(start)

	// Both WarpStream periods fetch at once (the lookahead), each within
	// the call's limit; the run is not held longer.
	if took > 3*callTimeout {
		t.Errorf("the run took %s; a stalled vendor should hold it about %s", took, callTimeout)
	}
	if len(rep.Failures) != 2 {
		t.Fatalf("failures: %v", rep.Err())
	}
	for i, period := range []string{"2026-10", "2026-11"} {
		f := rep.Failures[i]
		msg := f.Error()
		if f.Provider != extract.WarpStream || f.Period.String() != period ||
			!strings.HasPrefix(msg, "warpstream "+period+": warpstream get_invoice_breakdowns (POST "+breakdowns+"): no complete answer within 1s, the time limit of one call (VENDOR_CALL_TIMEOUT), after ") ||
			!strings.Contains(msg, "(the vendor stalled)") {
			t.Errorf("failure %d: %s", i, msg)
		}
	}
	// Retried: up to 1s / 100ms attempts per call (fewer on a busy
	// machine), not one.
	if n := ws.Stalled(breakdowns); n < 2*3 || n > 2*11 {
		t.Errorf("%d stalled answers for 2 calls; want 3 to 11 attempts each", n)
	}
	var written []string
	for _, p := range rep.Partitions {
		written = append(written, p.Provider+" "+p.Period.String())
	}
	if strings.Join(written, ",") != "cockroachdb 2026-10,cockroachdb 2026-11" {
		t.Errorf("written: %v", written)
	}
}
