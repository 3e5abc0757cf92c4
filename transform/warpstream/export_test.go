package warpstream

import "github.com/invoice-export/invoice-export/transform"

// LedgerStats is how a period's ledger went (transformPeriod).
type LedgerStats = ledgerStats

// Transforms returns Transform reporting its ledger's stats to stats, and
// Transform with a ledger that keeps every cluster from the start, to
// compare the two.
func Transforms(stats *LedgerStats) (dropping, keeping transform.Func) {
	dropping = func(in transform.Input, t *transform.Tally) (*transform.Result, error) {
		res, s, err := transformPeriod(in, t, false)
		*stats = s
		return res, err
	}
	keeping = func(in transform.Input, t *transform.Tally) (*transform.Result, error) {
		res, _, err := transformPeriod(in, t, true)
		return res, err
	}
	return dropping, keeping
}
