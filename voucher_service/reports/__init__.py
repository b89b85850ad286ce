"""Reports for the authority (per programme and period) and open data, as JSON, CSV or XLSX."""
