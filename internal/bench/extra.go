package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// lambdaFigures reports the Lambda's bootstrap size and cold start.
func lambdaFigures(root, work string) {
	if _, err := os.Stat(filepath.Join(root, "cmd", "lambda", "main.go")); err != nil {
		fmt.Println("Lambda: pending (cmd/lambda does not exist yet)")
		return
	}
	fmt.Println("Lambda: not measured yet")
}

// backfillFigures reports the rate-limited backfill.
func backfillFigures(root, work string) {
	fmt.Println("Backfill: not measured yet")
}
