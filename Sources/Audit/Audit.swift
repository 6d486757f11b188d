// Audit: scan pipeline, aggregation and reports.
