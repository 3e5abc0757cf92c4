package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // cgo; the benchmark only
)

// duckDBConvert is the reference: DuckDB doing the same conversion as
// cmd/local on one month of WarpStream breakdowns (read_json, unnest of
// tenants/workspaces/clusters/charges/breakdowns to the charge_lines
// columns, COPY ... TO ... (FORMAT parquet, PARTITION_BY ...)). It gets the
// document's structure up front (no type sampling), exact decimals, and
// every core. It does not reconcile nor check for duplicates.
func duckDBConvert(breakdowns, outDir string, month time.Time) (int64, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"SET autoinstall_known_extensions=false", "SET autoload_known_extensions=false", "SET TimeZone='UTC'",
		"SET preserve_insertion_order=false"} {
		if _, err := db.Exec(q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	// COPY creates the partition folders but not their parent.
	if err := os.MkdirAll(filepath.Dir(outDir), 0o755); err != nil {
		return 0, err
	}
	q := duckDBQuery(breakdowns, outDir, month)
	res, err := db.Exec(q)
	if err != nil {
		return 0, fmt.Errorf("duckdb: %w", err)
	}
	return res.RowsAffected()
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// The document's structure, days as DATE. Money and quantities are read
// as text and cast to DECIMAL(38,24): DuckDB's JSON reader turns a number
// read straight into a DECIMAL into a double first (3.33331 would become
// 3.333309999999999795003392).
const duckDBColumns = `{tenants: 'STRUCT(tenant_id VARCHAR, workspaces STRUCT(workspace_id VARCHAR, workspace_name VARCHAR,
  clusters STRUCT(virtual_cluster_id VARCHAR, cluster_name VARCHAR, cluster_regions VARCHAR[],
    charges STRUCT(product VARCHAR, unit_price VARCHAR,
      breakdowns STRUCT(date_from DATE, date_to DATE, quantity VARCHAR, total VARCHAR)[])[])[])[])[]'}`

func duckDBQuery(breakdowns, outDir string, month time.Time) string {
	start := month.Format("2006-01-02")
	end := month.AddDate(0, 1, 0).Format("2006-01-02")
	unit := `CASE WHEN lower(product) LIKE '%gib minutes%' THEN 'GiB-Minutes'
		WHEN lower(product) LIKE '%gib hours%' THEN 'GiB-Hours'
		WHEN lower(product) LIKE '%minutes%' THEN 'Minutes'
		WHEN lower(product) LIKE '%hours%' THEN 'Hours'
		WHEN lower(product) LIKE '%gib%' THEN 'GiB' END`
	return fmt.Sprintf(`COPY (
WITH t AS (
  SELECT unnest(tenants) AS t
  FROM read_json(%[1]s, format = 'auto', records = true, maximum_object_size = 2000000000, columns = %[7]s)
), w AS (
  SELECT t.tenant_id AS tenant_id, unnest(t.workspaces) AS w FROM t
), c AS (
  SELECT tenant_id, w.workspace_id AS workspace_id, w.workspace_name AS workspace_name, unnest(w.clusters) AS c FROM w
), ch AS (
  SELECT tenant_id, workspace_id, workspace_name, c.virtual_cluster_id AS cluster_id, c.cluster_name AS cluster_name,
    c.cluster_regions AS regions, unnest(c.charges) AS ch FROM c
), e AS (
  SELECT tenant_id, workspace_id, workspace_name, cluster_id, cluster_name, regions,
    ch.product AS product, ch.unit_price::DECIMAL(38,24) AS unit_price, unnest(ch.breakdowns) AS b FROM ch
), d AS (
  SELECT tenant_id, workspace_id, workspace_name, cluster_id, cluster_name, regions, product, unit_price,
    b.date_from AS date_from, b.date_to AS date_to, b.quantity::DECIMAL(38,24) AS quantity, b.total::DECIMAL(38,24) AS total FROM e
)
SELECT
  total AS BilledCost,
  'default' AS BillingAccountId,
  NULL::VARCHAR AS BillingAccountName,
  'USD' AS BillingCurrency,
  TIMESTAMPTZ '%[3]s' AS BillingPeriodEnd,
  TIMESTAMPTZ '%[2]s' AS BillingPeriodStart,
  'Usage' AS ChargeCategory,
  NULL::VARCHAR AS ChargeClass,
  product AS ChargeDescription,
  'Usage-Based' AS ChargeFrequency,
  date_to::TIMESTAMPTZ AS ChargePeriodEnd,
  date_from::TIMESTAMPTZ AS ChargePeriodStart,
  quantity AS ConsumedQuantity,
  %[5]s AS ConsumedUnit,
  total AS ContractedCost,
  total AS EffectiveCost,
  NULL::VARCHAR AS InvoiceId,
  'WarpStream' AS InvoiceIssuerName,
  total AS ListCost,
  NULL::VARCHAR AS PricingCurrency,
  NULL::DECIMAL(38,24) AS PricingCurrencyEffectiveCost,
  quantity AS PricingQuantity,
  %[5]s AS PricingUnit,
  'WarpStream' AS ProviderName,
  'WarpStream' AS PublisherName,
  CASE WHEN len(regions) = 1 THEN regions[1] END AS RegionId,
  CASE WHEN len(regions) = 1 THEN regions[1] END AS RegionName,
  cluster_id AS ResourceId,
  cluster_name AS ResourceName,
  CASE WHEN starts_with(cluster_id, 'vci_dl_') THEN 'Tableflow Cluster'
       WHEN starts_with(cluster_id, 'vci_sr_') THEN 'Schema Registry'
       ELSE 'Virtual Cluster' END AS ResourceType,
  'Analytics' AS ServiceCategory,
  'WarpStream' AS ServiceName,
  'Streaming Analytics' AS ServiceSubcategory,
  product AS SkuId,
  split_part(product, ' - Tier ', 1) AS SkuMeter,
  workspace_id AS SubAccountId,
  workspace_name AS SubAccountName,
  NULL::VARCHAR AS Tags,
  NULL::VARCHAR AS x_CloudProvider,
  NULL::VARCHAR AS x_Plan,
  'warpstream' AS x_Provider,
  CASE WHEN len(regions) > 0 THEN to_json(regions)::VARCHAR END AS x_Regions,
  'get_invoice_breakdowns' AS x_SourceEndpoint,
  tenant_id AS x_TenantId,
  unit_price AS x_VendorUnitPrice,
  'warpstream' AS provider,
  '%[6]s' AS billing_period
FROM d
WHERE date_from >= DATE '%[2]s' AND date_from < DATE '%[3]s'
) TO %[4]s (FORMAT parquet, PARTITION_BY (provider, billing_period), COMPRESSION snappy, OVERWRITE_OR_IGNORE)`,
		sqlString(breakdowns), start, end, sqlString(outDir), unit, month.Format("2006-01"), duckDBColumns)
}
