-- Top resources: the 20 clusters or projects that cost the most, over every period loaded (costs in different currencies are not comparable: filter on currency when there are several).
SELECT provider, ResourceId AS resource_id, ResourceName AS resource_name, ResourceType AS resource_type,
       BillingCurrency AS currency, sum(BilledCost) AS cost
FROM charge_lines
WHERE ResourceId IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ORDER BY cost DESC, provider, resource_id
LIMIT 20
