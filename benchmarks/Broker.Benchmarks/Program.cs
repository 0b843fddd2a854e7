using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Broker.Benchmarks.AlertDecodeBenchmarks).Assembly).Run(args);
