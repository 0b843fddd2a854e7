// The filter service: FilterStep says what it does, docs/filters.md how filters are written, docs/stages.md how a service is made.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.Filter.FilterStep.Stage, args);
