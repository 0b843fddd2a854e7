// The stamp-classifier service: StampClassifierStep says what it does, docs/stamps.md how it is configured, docs/stages.md how a service is made.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.StampClassifier.StampClassifierStep.Stage, args);
