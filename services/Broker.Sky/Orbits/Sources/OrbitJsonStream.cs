using System.Text;
using System.Text.Json;

namespace Broker.Sky.Orbits;

/// <summary>
/// Pulls JSON values one at a time from a stream of any length (the whole SBDB export is hundreds of megabytes): a
/// <see cref="Utf8JsonReader"/> over a growing window of the stream, its state carried between windows. A value is
/// taken only when it is complete in the window; otherwise more is read and the value is parsed again.
/// </summary>
internal sealed class OrbitJsonStream(Stream stream, string file)
{
    private delegate bool Step<T>(ref Utf8JsonReader reader, out T value);

    private byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private bool _final, _bomChecked;
    private JsonReaderState _state = new(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
    private long _consumedBefore;

    /// <summary>The file, for messages.</summary>
    public string File { get; } = file;

    /// <summary>The next token's type, without consuming it (<see cref="JsonTokenType.None"/> at the end of the input).</summary>
    public JsonTokenType Peek() => Take(static (ref Utf8JsonReader r, out JsonTokenType t) =>
    {
        t = r.Read() ? r.TokenType : JsonTokenType.None;
        return t != JsonTokenType.None;
    }, commit: false, orAtEnd: JsonTokenType.None);

    /// <summary>Consumes one token and gives its type and, for a property name or string, its text.</summary>
    public (JsonTokenType Type, string? Text) Token() => Take(static (ref Utf8JsonReader r, out (JsonTokenType, string?) t) =>
    {
        t = default;
        if (!r.Read()) return false;
        t = (r.TokenType, r.TokenType is JsonTokenType.PropertyName or JsonTokenType.String ? r.GetString() : null);
        return true;
    }, commit: true, orAtEnd: (JsonTokenType.None, null));

    /// <summary>Consumes one whole value (scalar, array or object) and gives it as an element.</summary>
    public JsonElement Value() => Take(static (ref Utf8JsonReader r, out JsonElement e) =>
    {
        e = default;
        var probe = r;
        if (!probe.Read() || !probe.TrySkip()) return false;
        if (!r.Read()) return false;
        using var doc = JsonDocument.ParseValue(ref r);
        e = doc.RootElement.Clone();
        return true;
    }, commit: true, orAtEnd: default);

    /// <summary>
    /// Consumes an array of scalars and gives each as text: strings as they are, numbers as written, null as null,
    /// true/false as "true"/"false"; a nested array or object gives null.
    /// </summary>
    /// <exception cref="OrbitFormatException">The next value is not an array.</exception>
    public string?[] ScalarArray()
    {
        var row = Take(static (ref Utf8JsonReader r, out List<string?>? values) =>
        {
            values = null;
            var probe = r;
            if (!probe.Read() || !probe.TrySkip()) return false;
            r.Read();
            if (r.TokenType != JsonTokenType.StartArray) return true;
            values = [];
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                switch (r.TokenType)
                {
                    case JsonTokenType.String:
                        values.Add(r.GetString());
                        break;
                    case JsonTokenType.Number:
                        values.Add(Encoding.UTF8.GetString(r.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(r.ValueSequence) : r.ValueSpan));
                        break;
                    case JsonTokenType.True:
                        values.Add("true");
                        break;
                    case JsonTokenType.False:
                        values.Add("false");
                        break;
                    case JsonTokenType.StartArray or JsonTokenType.StartObject:
                        r.Skip();
                        values.Add(null);
                        break;
                    default:
                        values.Add(null);
                        break;
                }
            }
            return true;
        }, commit: true, orAtEnd: null);
        return row?.ToArray() ?? throw new OrbitFormatException(File, 0, $"expected an array of values near byte {_consumedBefore}");
    }

    /// <summary>Consumes the next token and checks its type.</summary>
    /// <exception cref="OrbitFormatException">It is another token.</exception>
    public void Expect(JsonTokenType type, string what)
    {
        var (t, _) = Token();
        if (t != type) throw new OrbitFormatException(File, 0, $"expected {what} near byte {_consumedBefore}, found {(t == JsonTokenType.None ? "the end of the file" : t.ToString())}");
    }

    private T Take<T>(Step<T> step, bool commit, T orAtEnd)
    {
        while (true)
        {
            if (!_bomChecked && (_end - _start >= 3 || _final))
            {
                _bomChecked = true;
                if (_end - _start >= 3 && _buffer[_start] == 0xEF && _buffer[_start + 1] == 0xBB && _buffer[_start + 2] == 0xBF) _start += 3;
            }
            if (_bomChecked)
            {
                var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
                bool done;
                T value;
                try
                {
                    done = step(ref reader, out value);
                }
                catch (JsonException e)
                {
                    throw new OrbitFormatException(File, 0, $"not valid JSON near byte {_consumedBefore + e.BytePositionInLine ?? _consumedBefore}: {FirstLine(e.Message)}", e);
                }
                if (done)
                {
                    if (commit)
                    {
                        _start += (int)reader.BytesConsumed;
                        _consumedBefore += reader.BytesConsumed;
                        _state = reader.CurrentState;
                    }
                    return value;
                }
                if (_final) return orAtEnd;
            }
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int n;
        try
        {
            n = stream.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new OrbitFormatException(File, 0, $"cannot read the file: {e.Message}", e);
        }
        if (n == 0) _final = true;
        _end += n;
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }
}
