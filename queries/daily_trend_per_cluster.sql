-- Daily trend per cluster: usage cost of each resource per day (WarpStream and MongoDB Atlas bill daily; the others per month).
SELECT provider, ResourceId AS resource_id, ResourceName AS resource_name,
       CAST(ChargePeriodStart AS DATE) AS day, BillingCurrency AS currency,
       sum(BilledCost) AS cost,
       sum(ConsumedQuantity) AS quantity
FROM charge_lines
WHERE ChargeCategory = 'Usage' AND ResourceId IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 4
