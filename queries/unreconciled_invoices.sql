-- Unreconciled invoices: where the exported lines do not add up to the vendor's total, and why.
SELECT provider, billing_period, InvoiceId AS invoice_id, InvoiceStatus AS status, IsFinal AS is_final,
       BillingCurrency AS currency, InvoiceTotal AS invoice_total, LinesTotal AS lines_total,
       Difference AS difference, Problem AS problem, x_AccountId AS account
FROM invoices
WHERE NOT Reconciled
ORDER BY 1, 2, 3
