"""What every app's REST views build on: pagination, filters, parsers, throttling, the OpenAPI
schema class and the audit of API reads. Below the apps that own API views (jobs, quality,
statistics, exchange's REDCap endpoint, api), so that none of them imports the api app."""
