package extract

import "fmt"

// MaxListPages is the most pages a listing follows: at the 50 invoices a
// page that Spectro Cloud sends, 5,000 invoices, four centuries of one a
// month. A list that goes on is refused with an error rather than followed
// until the run's deadline.
const MaxListPages = 100

// MaxListed is the most invoices a listing may name, every page together,
// and MaxCalls the most calls one period's job may make: a vendor bills an
// account an invoice or two a month (WarpStream's period is 3 calls). A
// list naming more is refused before anything is fetched: every listed
// invoice costs memory while listing, and every call of a period an open
// file until the period is written.
const (
	MaxListed = 5000
	MaxCalls  = 100
)

// CheckJobs refuses jobs of which one would make more than MaxCalls calls;
// it then closes the bodies they share.
func CheckJobs(jobs []Job) error {
	for _, j := range jobs {
		if len(j.Calls) > MaxCalls {
			closeShared(jobs)
			return fmt.Errorf("%s %s: the listing names %d calls for this period, more than the %d one period may make: not a list this vendor sends for one account; nothing was fetched", j.Provider, j.Period, len(j.Calls), MaxCalls)
		}
	}
	return nil
}

func closeShared(jobs []Job) {
	seen := map[*Body]bool{}
	for _, j := range jobs {
		for _, b := range j.Shared {
			if !seen[b] {
				seen[b] = true
				b.Close()
			}
		}
	}
}
