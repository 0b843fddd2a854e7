// The ingest service: IngestStep says what it does, docs/stages.md how a service is made, docs/kafka.md how it is configured.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.Ingest.IngestStep.Stage, args);
