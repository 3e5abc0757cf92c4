package extract

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/invoice-export/invoice-export/internal/billing"
)

var listCall = Call{Provider: "p", Endpoint: "ListInvoices", Capture: "p/invoices.json"}

type page struct {
	Invoices []struct {
		ID string `json:"id"`
	} `json:"invoices"`
}

// A listing document over MaxSmall is refused before it is read; one
// under it decodes, however much white space it holds; a token over
// billing.MaxToken is bad data at its place.
func TestDecodeSmallBounds(t *testing.T) {
	decode := func(r io.Reader) error {
		b, err := NewBody(listCall, r)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		var p page
		return DecodeSmall(b, "the invoice list is not what the API documents", &p)
	}
	ws := strings.Repeat(" ", MaxSmall-100)
	if err := decode(strings.NewReader(`{"invoices": [{"id": "a"},` + ws + `{"id": "b"}]}`)); err != nil {
		t.Errorf("%d bytes: %v", MaxSmall, err)
	}
	big := `{"invoices": [{"id": "a"},` + ws + ws + `{"id": "b"}]}`
	err := decode(strings.NewReader(big))
	var de *billing.DataError
	want := fmt.Sprintf("p ListInvoices (p/invoices.json): bad data at byte 8388608: the invoice list is not what the API documents: the body is %d bytes, more than the 8 MiB a listing document may have; nothing of it was read", len(big))
	if !errors.As(err, &de) || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	err = decode(strings.NewReader(`{"invoices": [{"id": "a"}, {"id": "` + strings.Repeat("x", billing.MaxToken) + `"}]}`))
	want = "p ListInvoices (p/invoices.json): bad data at byte 34, /invoices/1/id: the invoice list is not what the API documents: a string of more than 1048576 bytes"
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %v\nwant %s…", err, want)
	}
}

// A period whose job would make more than MaxCalls calls is refused, and
// the bodies the jobs share are closed.
func TestCheckJobs(t *testing.T) {
	shared, err := NewBody(listCall, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	jobs := []Job{{Provider: "p", Shared: []*Body{shared}, Calls: make([]Call, MaxCalls)}}
	if err := CheckJobs(jobs); err != nil {
		t.Fatalf("%d calls: %v", MaxCalls, err)
	}
	jobs = append(jobs, Job{Provider: "p", Shared: []*Body{shared}, Calls: make([]Call, MaxCalls+1)})
	err = CheckJobs(jobs)
	if err == nil || !strings.Contains(err.Error(), "the listing names 101 calls for this period, more than the 100 one period may make") {
		t.Errorf("%d calls: %v", MaxCalls+1, err)
	}
	if _, err := shared.Reader().Read(make([]byte, 1)); err == nil {
		t.Error("the shared body is still open")
	}
}
