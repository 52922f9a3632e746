using System.Text.Json;
using System.Text.Unicode;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Findings;

/// <summary>
/// The fast path (#23): a record read straight off <see cref="Utf8JsonReader"/> into a <see cref="Finding"/>, with no
/// <see cref="JsonDocument"/> except one for a record's <c>attributes</c>. It accepts only records that the checked path
/// (<see cref="Parse(JsonElement, Func{string, Diagnostics.SourceLocation}, Diagnostics.DiagnosticBag)"/>) accepts
/// without a diagnostic, and builds the same finding from them; anything else — a syntax error, an unknown or repeated
/// field, a wrong type, an empty or unreadable string, an unknown severity or provider — returns null, and the record is
/// read again by the checked path, which names the file, line, column and field and says how to fix it. So diagnostics
/// are exactly what they were, and a valid record costs a single pass.
/// </summary>
public static partial class FindingReader
{
    private const int IdBit = 1, SourceBit = 2, KindBit = 4, TypeBit = 8, SeverityBit = 16, ObservedBit = 32, SubjectBit = 64, TitleBit = 128, AttributesBit = 256;

    private const int Required = IdBit | SourceBit | TypeBit | SeverityBit | ObservedBit | SubjectBit;

    /// <summary>
    /// One record at <paramref name="reader"/> (positioned on its first token; <paramref name="input"/> is what the reader
    /// reads) as a finding, the reader left on its last token; null when the checked path must read it. May throw
    /// <see cref="JsonException"/> or <see cref="InvalidOperationException"/> on bad input, which also means: let the
    /// checked path read it. Strings that repeat from finding to finding come from <paramref name="strings"/>; the
    /// attributes are kept as their UTF-8 text, parsed when first asked for (<see cref="FindingAttributes"/>).
    /// </summary>
    private static Finding? ReadFast(ref Utf8JsonReader reader, ReadOnlySpan<byte> input, SourceLocation origin, Utf8StringCache strings)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var seen = 0;
        string? id = null, source = null, type = null, title = null;
        var kind = FindingKind.Detection;
        var severity = Severity.Low;
        var observedAt = default(DateTimeOffset);
        Subject? subject = null;
        var attributes = Finding.NoAttributes;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Field(ref reader);
            if (field == 0 || (seen & field) != 0) return null;
            seen |= field;
            reader.Read();
            switch (field)
            {
                case IdBit:
                    if ((id = NonBlank(ref reader, null)) is null) return null;
                    break;
                case SourceBit:
                    if ((source = NonBlank(ref reader, strings.Labels)) is null) return null;
                    break;
                case TypeBit:
                    if ((type = NonBlank(ref reader, strings.Labels)) is null || !IsSnakeCase(type)) return null;
                    break;
                case KindBit:
                    if (reader.TokenType != JsonTokenType.String) return null;
                    if (reader.ValueTextEquals("posture"u8)) kind = FindingKind.Posture;
                    else if (!reader.ValueTextEquals("detection"u8)) return null;
                    break;
                case SeverityBit:
                    if (reader.TokenType != JsonTokenType.String || !TrySeverity(ref reader, out severity)) return null;
                    break;
                case ObservedBit:
                    if (reader.TokenType != JsonTokenType.String || !TryTimestamp(ref reader, out observedAt)) return null;
                    break;
                case TitleBit:
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        if ((title = Text(ref reader, strings.Titles)) is null) return null;
                    }
                    else if (reader.TokenType != JsonTokenType.Null) return null;
                    break;
                case SubjectBit:
                    if ((subject = ReadSubject(ref reader, strings)) is null) return null;
                    break;
                default:
                    if (reader.TokenType == JsonTokenType.Null) break;
                    if (reader.TokenType != JsonTokenType.StartObject) return null;
                    var start = (int)reader.TokenStartIndex;
                    if (!SkipReadable(ref reader)) return null;
                    var end = (int)reader.TokenStartIndex + 1;
                    if (end - start > 2) attributes = FindingAttributes.FromCheckedUtf8(input[start..end].ToArray());
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || (seen & Required) != Required) return null;
        return new Finding(id!, source!, kind, type!, severity, observedAt, subject!, title ?? type!, attributes) { Location = origin };
    }

    /// <summary>Which known field a property name is (one bit each), 0 for any other.</summary>
    private static int Field(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            return name.Length switch
            {
                2 when name.SequenceEqual("id"u8) => IdBit,
                4 when name.SequenceEqual("kind"u8) => KindBit,
                4 when name.SequenceEqual("type"u8) => TypeBit,
                5 when name.SequenceEqual("title"u8) => TitleBit,
                6 when name.SequenceEqual("source"u8) => SourceBit,
                7 when name.SequenceEqual("subject"u8) => SubjectBit,
                8 when name.SequenceEqual("severity"u8) => SeverityBit,
                10 when name.SequenceEqual("attributes"u8) => AttributesBit,
                11 when name.SequenceEqual("observed_at"u8) => ObservedBit,
                _ => 0,
            };
        }

        return reader.ValueTextEquals("id"u8) ? IdBit
            : reader.ValueTextEquals("source"u8) ? SourceBit
            : reader.ValueTextEquals("kind"u8) ? KindBit
            : reader.ValueTextEquals("type"u8) ? TypeBit
            : reader.ValueTextEquals("severity"u8) ? SeverityBit
            : reader.ValueTextEquals("observed_at"u8) ? ObservedBit
            : reader.ValueTextEquals("subject"u8) ? SubjectBit
            : reader.ValueTextEquals("title"u8) ? TitleBit
            : reader.ValueTextEquals("attributes"u8) ? AttributesBit
            : 0;
    }

    /// <summary>A string that is not empty or white space, as the checked path requires; null for anything else.</summary>
    private static string? NonBlank(ref Utf8JsonReader reader, Utf8StringCache.Table? strings)
    {
        if (reader.TokenType != JsonTokenType.String) return null;
        var text = Text(ref reader, strings);
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    /// <summary>The string token's text, through <paramref name="strings"/> when given and the value is not escaped; null when it is not valid UTF-8.</summary>
    private static string? Text(ref Utf8JsonReader reader, Utf8StringCache.Table? strings) =>
        strings is null || reader.ValueIsEscaped ? reader.GetString() : strings.Get(reader.ValueSpan);

    private static bool TrySeverity(ref Utf8JsonReader reader, out Severity severity)
    {
        severity = Severity.Low;
        if (reader.ValueIsEscaped) return Severities.TryParse(reader.GetString(), out severity);
        var text = reader.ValueSpan;
        if (text.SequenceEqual("high"u8)) severity = Severity.High;
        else if (text.SequenceEqual("medium"u8)) severity = Severity.Medium;
        else if (text.SequenceEqual("critical"u8)) severity = Severity.Critical;
        else if (text.SequenceEqual("low"u8)) severity = Severity.Low;
        else if (text.SequenceEqual("informational"u8)) severity = Severity.Informational;
        else return false;
        return true;
    }

    /// <summary>
    /// <c>observed_at</c> as <see cref="TryParseTimestamp"/> reads it: the common <c>2026-11-20T08:15:00Z</c> form (with
    /// up to seven fraction digits) decoded from the bytes, any other form through <see cref="TryParseTimestamp"/> itself.
    /// </summary>
    private static bool TryTimestamp(ref Utf8JsonReader reader, out DateTimeOffset value)
    {
        if (!reader.ValueIsEscaped && TryUtcTimestamp(reader.ValueSpan, out value)) return true;
        return TryParseTimestamp(reader.GetString()!, out value);
    }

    /// <summary><c>yyyy-MM-ddTHH:mm:ss[.f{1,7}]Z</c> with every field in range; false (not decided) for anything else.</summary>
    internal static bool TryUtcTimestamp(ReadOnlySpan<byte> text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < 20 || text[^1] != 'Z' || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') return false;
        if (!Digits(text, 0, 4, out var year) || !Digits(text, 5, 2, out var month) || !Digits(text, 8, 2, out var day)
            || !Digits(text, 11, 2, out var hour) || !Digits(text, 14, 2, out var minute) || !Digits(text, 17, 2, out var second)) return false;
        var ticks = 0L;
        if (text.Length > 20)
        {
            var fraction = text.Length - 21;
            if (text[19] != '.' || fraction is < 1 or > 7 || !Digits(text, 20, fraction, out var digits)) return false;
            ticks = digits;
            for (var i = fraction; i < 7; i++) ticks *= 10;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return false;
        value = new DateTimeOffset(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(ticks), TimeSpan.Zero);
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var digit = text[i] - (byte)'0';
            if ((uint)digit > 9) return false;
            value = (value * 10) + digit;
        }

        return true;
    }

    private static bool IsSnakeCase(string text)
    {
        if (text.Length == 0 || !char.IsAsciiLetterLower(text[0])) return false;
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')) return false;
        }

        return true;
    }

    /// <summary>The subject object as the checked path accepts it: provider, and an id or a name, nothing else, each once.</summary>
    private static Subject? ReadSubject(ref Utf8JsonReader reader, Utf8StringCache strings)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        Provider? provider = null;
        string? id = null, name = null;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueTextEquals("provider"u8) ? 1 : reader.ValueTextEquals("id"u8) ? 2 : reader.ValueTextEquals("name"u8) ? 4 : 0;
            if (field == 0 || (seen & field) != 0) return null;
            seen |= field;
            reader.Read();
            switch (field)
            {
                case 1:
                    if (reader.TokenType != JsonTokenType.String) return null;
                    if (reader.ValueTextEquals("ad"u8)) provider = Provider.Ad;
                    else if (reader.ValueTextEquals("entra"u8)) provider = Provider.Entra;
                    else if (reader.ValueTextEquals("okta"u8)) provider = Provider.Okta;
                    else return null;
                    break;
                case 2:
                    if (reader.TokenType == JsonTokenType.Null) break;
                    if ((id = NonBlank(ref reader, strings.Names)) is null) return null;
                    break;
                default:
                    if (reader.TokenType == JsonTokenType.Null) break;
                    if ((name = NonBlank(ref reader, strings.Names)) is null) return null;
                    break;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && provider is { } known && (id is not null || name is not null) ? new Subject(known, id, name) : null;
    }

    /// <summary>
    /// Moves <paramref name="reader"/> from the start of a value to its last token; false as soon as a string or property
    /// name in it is not text, as <see cref="JsonText.FirstUnreadable"/> checks on the checked path.
    /// </summary>
    private static bool SkipReadable(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        do
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
                else if (!Utf8.IsValid(reader.ValueSpan))
                {
                    return false;
                }
            }
        }
        while (reader.Read() && reader.CurrentDepth > depth);

        return reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray;
    }
}
