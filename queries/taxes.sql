-- Taxes: the tax each vendor charged per invoice and month (FOCUS ChargeCategory Tax), against the invoice's billed cost.
SELECT provider, billing_period, InvoiceId AS invoice_id, BillingCurrency AS currency,
       sum(CASE WHEN ChargeCategory = 'Tax' THEN BilledCost ELSE 0 END) AS tax,
       sum(BilledCost) AS billed_cost
FROM charge_lines
GROUP BY 1, 2, 3, 4
HAVING sum(CASE WHEN ChargeCategory = 'Tax' THEN 1 ELSE 0 END) > 0
ORDER BY 1, 2, 3
