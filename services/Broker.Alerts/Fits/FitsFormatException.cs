namespace Broker.Alerts.Fits;

/// <summary>
/// The bytes are not a FITS file this reader can use: truncated, corrupt gzip, a header without an END card, an
/// unknown BITPIX, or no two-dimensional image where one was asked for. A broken cutout is bad input: callers send
/// the alert to the dead-letter topic rather than retry it.
/// </summary>
public sealed class FitsFormatException(string message, Exception? inner = null) : FormatException(message, inner);
