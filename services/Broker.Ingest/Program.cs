// The ingest service: see IngestStep for what it does and docs/kafka.md for how it is configured.
return await Broker.Ingest.IngestService.RunAsync(args);
