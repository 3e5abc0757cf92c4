package invoiceexport

import (
	"fmt"
	"strconv"
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
