// The light-curve classifier service: LightCurveClassifierStep says what it does, docs/lightcurve-classifier.md how it is configured, docs/stages.md how a service is made.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.LightCurveClassifier.LightCurveClassifierStep.Stage, args);
