package invoiceexport

import (
	"fmt"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// DefaultRestatementDays is how many days into a month the previous
// billing period is exported again: vendors finalize invoices in the
// first days of the month.
const DefaultRestatementDays = 5

// RestatementDaysFromEnv reads RESTATEMENT_DAYS, the same for both commands.
func RestatementDaysFromEnv(getenv func(string) string) (int, error) {
	v := getenv("RESTATEMENT_DAYS")
	if v == "" {
		return DefaultRestatementDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 28 {
		return 0, fmt.Errorf("RESTATEMENT_DAYS=%q: use a number of days from 0 to 28", v)
	}
	return n, nil
}

// MaxRangeMonthsVar names the setting of the most months one run may
// export (a backfill's range): DefaultMaxRangeMonths, 1 to 600.
const (
	MaxRangeMonthsVar     = "MAX_RANGE_MONTHS"
	DefaultMaxRangeMonths = 36
)

// MaxRangeMonthsFromEnv reads MAX_RANGE_MONTHS, the same for both commands.
func MaxRangeMonthsFromEnv(getenv func(string) string) (int, error) {
	v := getenv(MaxRangeMonthsVar)
	if v == "" {
		return DefaultMaxRangeMonths, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 600 {
		return 0, fmt.Errorf("%s=%q: use a number of months from 1 to 600", MaxRangeMonthsVar, billing.Excerpt([]byte(v), nil))
	}
	return n, nil
}

// AsOf is the day a run takes as "today": day ("YYYY-MM-DD"), or now's
// date in UTC when day is empty. It is a midnight UTC, on or after
// Earliest's first day.
func AsOf(day string, now time.Time) (time.Time, error) {
	t := now.UTC()
	if day != "" {
		var err error
		if t, err = time.Parse("2006-01-02", day); err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD", billing.Excerpt([]byte(day), nil))
		}
		if t.Before(Earliest.Start()) {
			return time.Time{}, fmt.Errorf("%q is before %s: no vendor exported here bills that far back", day, Earliest.Start().Format("2006-01-02"))
		}
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

// MemoryLimit is the soft limit LimitMemory sets. The export streams: its
// live heap is 16 to 17 MB from 100k to 1M lines a month and 24 MB at 5M
// (the footer's page index grows with the pages), but the GC's default lets
// the heap reach twice the live size before it collects. At 36 MiB the peak
// RSS of 1M and 5M lines is 50 to 51 MB, 100k lines' 46 (at 64 MiB: 59 and
// 73 against 49), for 0.9 s more GC CPU in the 17 to 20 s of a 5M-line
// month and 74 ms in a 1M one; lower, the GC runs ever more often as the
// page index grows (docs/performance.md).
const MemoryLimit = 36 << 20

// LimitMemory sets MemoryLimit unless GOMEMLIMIT says otherwise. It is a
// soft limit: past it the GC collects more often, nothing fails.
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}

// AccountConcurrencyVar names Options.AccountConcurrency's setting, the
// same for both commands (cmd/local's --account-concurrency overrides it).
const AccountConcurrencyVar = "ACCOUNT_CONCURRENCY"

// AccountConcurrencyFromEnv reads ACCOUNT_CONCURRENCY: 1 to 64,
// DefaultAccountConcurrency when unset.
func AccountConcurrencyFromEnv(getenv func(string) string) (int, error) {
	v := getenv(AccountConcurrencyVar)
	if v == "" {
		return DefaultAccountConcurrency, nil
	}
	return CheckAccountConcurrency(AccountConcurrencyVar+"="+strconv.Quote(v), v)
}

// CheckAccountConcurrency reads a number of accounts of one vendor
// exported at once; name is what a refusal names.
func CheckAccountConcurrency(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 64 {
		return 0, fmt.Errorf("%s: use a number of accounts from 1 to 64 (default %d)", name, DefaultAccountConcurrency)
	}
	return n, nil
}

// ReplayAccounts are the accounts a capture folder holds for providers,
// configured from cfgs (the environment): DefaultAccount where captures
// sit at the root, and an account per account=<id>/ folder, whose id is
// its BillingAccountId where the vendor names none (as an accounts
// document's would be). Providers without captures are skipped, with why.
func ReplayAccounts(dir extract.Dir, providers []string, cfgs Configs, getenv func(string) string) (out []Account, skipped []string) {
	for _, slug := range providers {
		ids := dir.Accounts(slug)
		if len(ids) == 0 {
			skipped = append(skipped, fmt.Sprintf("%s: skipped, no captures in %s/%s", slug, dir, slug))
			continue
		}
		p, err := registry.Get(slug)
		if err != nil {
			continue
		}
		for _, id := range ids {
			if !accountID.MatchString(id) {
				skipped = append(skipped, fmt.Sprintf("%s: skipped captures %s/account=%s: not a safe account id", slug, dir, id))
				continue
			}
			c := cfgs[slug]
			if id != DefaultAccount {
				c, _ = p.ReadConfig(func(n string) string {
					if n == p.EnvPrefix+"_ACCOUNT_ID" {
						return id
					}
					return getenv(n)
				})
			}
			out = append(out, Account{Provider: slug, ID: id, Config: c})
		}
	}
	return out, skipped
}
