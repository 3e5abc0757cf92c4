-- Cost by vendor and month: billed and effective cost per currency, with line counts.
SELECT provider, billing_period, BillingCurrency AS currency,
       sum(BilledCost) AS billed_cost,
       sum(EffectiveCost) AS effective_cost,
       count(*) AS lines
FROM charge_lines
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
