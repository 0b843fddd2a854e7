using Broker.Alerts.IO;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// A registered stage as the harness measures it (docs/kafka.md, "Throughput and latency"): its step run directly,
/// its in-process stage and its Kafka host, each made from its registry entry with the harness's settings, so that
/// the harness names no stage. What needs the stage's types (its step, codecs and the host's batch event) is in
/// <see cref="MeasuredStage{TIn,TOut,TOptions}"/>, which <see cref="For"/> makes for the entry's type arguments.
/// </summary>
internal abstract class MeasuredStage
{
    private protected MeasuredStage(StageDefinition definition, IReadOnlyDictionary<string, string?> settings, StageContext context)
    {
        Definition = definition;
        // Only its own sections: its service refuses any other besides the host's (StepHostApp.CheckSections).
        StageSettings = settings.Where(kv => definition.Sections.Contains(kv.Key.Split(':')[0], StringComparer.OrdinalIgnoreCase))
            .ToDictionary(StringComparer.OrdinalIgnoreCase);
        Settings = new ConfigurationBuilder().AddInMemoryCollection(StageSettings).Build();
        Context = context;
    }

    /// <summary>The registry's entry.</summary>
    public StageDefinition Definition { get; }

    /// <summary>The stage's name.</summary>
    public string Name => Definition.Name;

    /// <summary>The harness's settings of the stage's own sections (<c>Ingest:DuplicateWindow</c>), as configuration.</summary>
    public IConfiguration Settings { get; }

    /// <summary>What the stage's steps are given besides their options, in one process (the samples' schema registry).</summary>
    public StageContext Context { get; }

    /// <summary>False when its input codec passes the message bytes through (ingest's): the host decodes nothing.</summary>
    public abstract bool DecodesInput { get; }

    private IReadOnlyDictionary<string, string?> StageSettings { get; }

    /// <summary>
    /// The measured view of <paramref name="definition"/>. Every registry entry is a
    /// <see cref="StageDefinition{TIn,TOut,TOptions}"/>; its type arguments close the typed view, so that the harness's
    /// code stays non-generic and StepHost needs no API for it.
    /// </summary>
    /// <param name="definition">The entry.</param>
    /// <param name="settings">The harness's settings as <c>Section:Key</c>; those of the stage's sections are its.</param>
    /// <param name="context">What its in-process steps are given.</param>
    /// <exception cref="ArgumentException">The entry is not a typed stage definition.</exception>
    public static MeasuredStage For(StageDefinition definition, IReadOnlyDictionary<string, string?> settings, StageContext context)
    {
        var type = definition.GetType();
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(StageDefinition<,,>))
            throw new ArgumentException($"stage {definition.Name} is a {type.Name}, not a StageDefinition<TIn, TOut, TOptions>", nameof(definition));
        var view = typeof(MeasuredStage<,,>).MakeGenericType(type.GetGenericArguments());
        return (MeasuredStage)Activator.CreateInstance(view, definition, settings, context)!;
    }

    /// <summary>A fresh step, started (its start-up hook run), for one pass over messages.</summary>
    public abstract Task<StepPass> StartPassAsync();

    /// <summary>
    /// For the in-process pass of a stage that decodes its input: a stage in front of it that decodes each message with
    /// the stage's input codec, as its host does (the in-process runner's source gives message bytes); null otherwise.
    /// </summary>
    public abstract PipelineStage? DecodeStage();

    /// <summary>An output of the stage encoded as its host produces it.</summary>
    public abstract byte[] Encode(object output);

    /// <summary>
    /// Its Kafka host, made as its service makes it (<see cref="StageDefinition.CreateService"/>) from the configuration its
    /// entry builds (<see cref="StageDefinition.BuildConfiguration"/>: the entry's topics, then the service's own settings),
    /// with the harness's stage settings and <paramref name="overrides"/> (bootstrap, group, topics, batches) on top.
    /// </summary>
    /// <param name="overrides">The harness's settings as <c>Section:Key</c>.</param>
    /// <param name="batchCompleted">Told after each batch is committed (<see cref="KafkaStepHost{TIn,TOut}.BatchCompleted"/>).</param>
    public IStepService CreateHost(IReadOnlyDictionary<string, string?> overrides, Action<StepCountersSnapshot> batchCompleted)
    {
        var all = new Dictionary<string, string?>(StageSettings, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in overrides) all[key] = value;
        var host = Definition.CreateService(Definition.BuildConfiguration([], all), NullLoggerFactory.Instance);
        Subscribe(host, batchCompleted);
        return host;
    }

    private protected abstract void Subscribe(IStepService host, Action<StepCountersSnapshot> batchCompleted);

    /// <summary>
    /// The stage's input for one copy of the samples, as its host would read it: for a stage that reads a source topic
    /// (ingest), <paramref name="samples"/> as the survey sends them; for a later one, the samples run in-process through
    /// the stages that lead to its input topic (<see cref="Upstream"/>, each made from the harness's settings), each output
    /// to that topic encoded by the stage that writes it and keyed as its host keys it.
    /// </summary>
    /// <param name="stage">The stage.</param>
    /// <param name="path">The stages upstream of it (<see cref="Upstream"/>).</param>
    /// <param name="samples">The sample alerts.</param>
    /// <param name="settings">The harness's settings as <c>Section:Key</c>.</param>
    /// <param name="context">What the upstream steps are given.</param>
    /// <exception cref="InvalidOperationException">The stages upstream are not a chain the in-process runner can run.</exception>
    public static async Task<List<SourceMessage>> InputsAsync(StageDefinition stage, IReadOnlyList<StageDefinition> path,
        List<SourceMessage> samples, IReadOnlyDictionary<string, string?> settings, StageContext context)
    {
        if (path.Count == 0) return samples;
        for (int i = 1; i < path.Count; i++)
        {
            if (path[i].Input != path[i - 1].Outputs[0].Name)
                throw new InvalidOperationException($"stage {path[i].Name} reads {path[i].Input}, not the default output of {path[i - 1].Name}: the in-process runner cannot chain them to make {stage.Name}'s input");
        }
        var writer = For(path[^1], settings, context);
        var chain = new List<PipelineStage>(path.Count);
        foreach (var upstream in path) chain.Add(upstream.CreateStage(For(upstream, settings, context).Settings, context));
        await using var pipeline = new InProcessPipeline(chain);
        var inputs = new List<SourceMessage>(samples.Count);
        await pipeline.RunAsync(Replay(samples), o =>
        {
            // In one process a named destination's name is its topic; the last stage's default output is its first.
            string topic = o.Destination == Destination.Default ? path[^1].Outputs[0].Name : o.Destination;
            if (topic == stage.Input) inputs.Add(new SourceMessage(o.Origin.Source, o.Origin.Index, writer.Encode(o.Value), o.Key));
        });
        return inputs;
    }

    /// <summary>The messages, as the in-process runner's source.</summary>
    public static async IAsyncEnumerable<SourceMessage> Replay(IReadOnlyList<SourceMessage> messages)
    {
        foreach (var m in messages) yield return m;
        await Task.CompletedTask;
    }

    /// <summary>The stages that lead from a source topic to <paramref name="stage"/>'s input, in chain order (none when it reads a source).</summary>
    public static List<StageDefinition> Upstream(StageRegistry registry, StageDefinition stage)
    {
        var path = new List<StageDefinition>();
        // The registry's check guarantees one writer per topic, written before it is read: the walk ends at a source.
        for (string topic = stage.Input; registry.Stages.FirstOrDefault(s => s.Outputs.Any(o => o.Name == topic)) is { } writer; topic = writer.Input)
            path.Insert(0, writer);
        return path;
    }
}

/// <summary>The typed part of <see cref="MeasuredStage"/>.</summary>
/// <typeparam name="TIn">What the step reads.</typeparam>
/// <typeparam name="TOut">What it writes.</typeparam>
/// <typeparam name="TOptions">Its options class.</typeparam>
internal sealed class MeasuredStage<TIn, TOut, TOptions>(StageDefinition<TIn, TOut, TOptions> definition, IReadOnlyDictionary<string, string?> settings, StageContext context)
    : MeasuredStage(definition, settings, context)
    where TIn : notnull where TOut : notnull where TOptions : class, IStageOptions, new()
{
    /// <inheritdoc />
    public override bool DecodesInput => definition.InputCodec is not RawBytesCodec;

    /// <inheritdoc />
    public override async Task<StepPass> StartPassAsync()
    {
        var step = definition.Factory(definition.BindOptions(Settings), Context);
        await StepLifetime.StartAsync(step, CancellationToken.None);
        return new Pass(step, definition.InputCodec, definition.OutputCodec);
    }

    /// <inheritdoc />
    public override PipelineStage? DecodeStage() => DecodesInput ? PipelineStage.From(new DecodeStep(definition.InputCodec)) : null;

    /// <inheritdoc />
    public override byte[] Encode(object output) => definition.OutputCodec.Encode((TOut)output);

    private protected override void Subscribe(IStepService host, Action<StepCountersSnapshot> batchCompleted) =>
        ((KafkaStepHost<TIn, TOut>)host).BatchCompleted += batchCompleted;

    private sealed class Pass(IStep<TIn, TOut> step, IMessageCodec<TIn> inputCodec, IMessageCodec<TOut> outputCodec) : StepPass
    {
        private readonly List<TIn> _batch = [];
        private readonly List<int> _indexes = [];

        public override (long Outputs, long Bytes) Run(IReadOnlyList<SourceMessage> messages, int start, int count, bool encode, bool[]? reachesDefault = null)
        {
            _batch.Clear();
            _indexes.Clear();
            for (int k = start; k < start + count; k++)
            {
                try
                {
                    _batch.Add(inputCodec.Decode(messages[k].Value));
                    _indexes.Add(k);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Undecodable: the host dead-letters it without running the step.
                }
            }
            var pending = step.ExecuteAsync(_batch, CancellationToken.None);
            var results = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            long outputs = 0, bytes = 0;
            for (int i = 0; i < results.Count; i++)
            {
                var r = results[i];
                if (r.Outcome != StepOutcome.Emitted) continue;
                if (r.Routes is null)
                {
                    if (reachesDefault is not null) reachesDefault[_indexes[i]] = true;
                    if (encode) bytes += EncodeOne(r.Value!);
                    outputs++;
                    continue;
                }
                foreach (var route in r.Routes)
                {
                    if (reachesDefault is not null && route.Destination == Destination.Default) reachesDefault[_indexes[i]] = true;
                    if (encode) bytes += EncodeOne(route.Value);
                    outputs++;
                }
            }
            return (outputs, bytes);
        }

        public override ValueTask DisposeAsync() => StepLifetime.DisposeAsync(step);

        // What the host does for each output: its value, and its key as bytes (null keeps the input's).
        private long EncodeOne(TOut value) => outputCodec.Encode(value).Length + (outputCodec.KeyBytesOf(value)?.Length ?? 0);
    }

    /// <summary>Decodes each message with the stage's input codec; an undecodable one is a dead letter, as on the host.</summary>
    private sealed class DecodeStep(IMessageCodec<TIn> codec) : IStep<byte[], TIn>
    {
        public string Name => "decode";

        public ValueTask<IReadOnlyList<StepResult<TIn>>> ExecuteAsync(IReadOnlyList<byte[]> batch, CancellationToken cancellationToken)
        {
            var results = new StepResult<TIn>[batch.Count];
            for (int i = 0; i < results.Length; i++)
            {
                try
                {
                    results[i] = StepResult<TIn>.Emit(codec.Decode(batch[i]));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    results[i] = StepResult<TIn>.DeadLetter($"undecodable: {ex.Message}");
                }
            }
            return ValueTask.FromResult<IReadOnlyList<StepResult<TIn>>>(results);
        }
    }
}

/// <summary>A stage's step made for one pass over messages, called directly: no runner, retries or isolation.</summary>
internal abstract class StepPass : IAsyncDisposable
{
    /// <summary>
    /// Runs the step once on <paramref name="count"/> messages from <paramref name="start"/>: decodes each with the stage's
    /// input codec (an undecodable one is left out, as the host dead-letters it), calls the step (which is expected to
    /// complete synchronously, as ingest's does; otherwise this thread waits), and, when <paramref name="encode"/>,
    /// encodes each output and its key as the host does.
    /// </summary>
    /// <param name="messages">The messages.</param>
    /// <param name="start">The first.</param>
    /// <param name="count">How many.</param>
    /// <param name="encode">Encode the outputs.</param>
    /// <param name="reachesDefault">When given, set true for each message (by index into <paramref name="messages"/>) with an output to the default destination.</param>
    /// <returns>The outputs, and the bytes encoded (values and keys; 0 without <paramref name="encode"/>).</returns>
    public abstract (long Outputs, long Bytes) Run(IReadOnlyList<SourceMessage> messages, int start, int count, bool encode, bool[]? reachesDefault = null);

    /// <summary>Disposes the step.</summary>
    public abstract ValueTask DisposeAsync();
}
