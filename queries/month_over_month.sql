-- Month-over-month change: each vendor's monthly cost against the month before, per currency.
WITH monthly AS (
  SELECT provider, billing_period, BillingCurrency AS currency, sum(BilledCost) AS cost
  FROM charge_lines
  GROUP BY 1, 2, 3
)
SELECT provider, billing_period, currency, cost,
       lag(cost) OVER (PARTITION BY provider, currency ORDER BY billing_period) AS previous_cost,
       cost - lag(cost) OVER (PARTITION BY provider, currency ORDER BY billing_period) AS change,
       round(CAST(cost AS DOUBLE) / nullif(CAST(lag(cost) OVER (PARTITION BY provider, currency ORDER BY billing_period) AS DOUBLE), 0) - 1, 4) AS change_ratio
FROM monthly
ORDER BY 1, 3, 2
