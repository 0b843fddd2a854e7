// The crossmatch service: CrossmatchStep says what it does, docs/catalogs.md ("Crossmatch stage") how it is configured, docs/stages.md how a service is made.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.Crossmatch.CrossmatchStep.Stage, args);
