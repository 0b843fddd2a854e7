// The solar-system service: SsoStep says what it does, docs/sso.md how it is configured, docs/stages.md how a service is made.
return await Broker.StepHost.StepHostApp.RunAsync(Broker.Sso.SsoStep.Stage, args);
