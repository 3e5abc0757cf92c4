-- Credits and adjustments: what lowered or corrected each invoice, by kind.
SELECT provider, billing_period, ChargeCategory AS category, ChargeDescription AS description,
       BillingCurrency AS currency, count(*) AS lines,
       sum(BilledCost) AS amount,
       sum(PricingCurrencyEffectiveCost) AS amount_in_pricing_currency
FROM charge_lines
WHERE ChargeCategory IN ('Credit', 'Adjustment')
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4
