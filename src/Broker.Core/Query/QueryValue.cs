using System.Text.Json;

namespace Broker.Core.Query;

/// <summary>The kinds of value a query expression yields.</summary>
internal enum QueryValueKind : byte
{
    Undefined,
    Null,
    Boolean,
    Number,
    String,

    /// <summary>An object or array of the document: it can be projected or tested with IS_DEFINED, not compared.</summary>
    Complex,
}

/// <summary>A value during query evaluation: a primitive, or a complex node of the twin document.</summary>
internal readonly struct QueryValue
{
    private QueryValue(QueryValueKind kind, bool boolean = false, double number = 0, string? text = null, JsonElement element = default)
    {
        Kind = kind;
        Boolean = boolean;
        Number = number;
        Text = text;
        Element = element;
    }

    public static QueryValue Undefined => default;

    public static QueryValue Null => new(QueryValueKind.Null);

    public QueryValueKind Kind { get; }

    public bool Boolean { get; }

    public double Number { get; }

    public string? Text { get; }

    public JsonElement Element { get; }

    /// <summary>Only a boolean true passes a WHERE clause.</summary>
    public bool IsTrue => Kind == QueryValueKind.Boolean && Boolean;

    public bool IsPrimitive => Kind is QueryValueKind.Null or QueryValueKind.Boolean or QueryValueKind.Number or QueryValueKind.String;

    public static QueryValue Of(bool value) => new(QueryValueKind.Boolean, boolean: value);

    public static QueryValue Of(double value) => double.IsFinite(value) ? new(QueryValueKind.Number, number: value) : Undefined;

    public static QueryValue Of(string value) => new(QueryValueKind.String, text: value);

    /// <summary>A node of the document as a query value.</summary>
    public static QueryValue Of(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => Null,
        JsonValueKind.True => Of(true),
        JsonValueKind.False => Of(false),
        JsonValueKind.Number => Of(element.GetDouble()),
        JsonValueKind.String => Of(element.GetString()!),
        JsonValueKind.Object or JsonValueKind.Array => new(QueryValueKind.Complex, element: element),
        _ => Undefined,
    };

    /// <summary>Writes the value into a projected result (undefined values are left out by the caller).</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case QueryValueKind.Null:
                writer.WriteNullValue();
                break;
            case QueryValueKind.Boolean:
                writer.WriteBooleanValue(Boolean);
                break;
            case QueryValueKind.Number:
                writer.WriteNumberValue(Number);
                break;
            case QueryValueKind.String:
                writer.WriteStringValue(Text);
                break;
            case QueryValueKind.Complex:
                Element.WriteTo(writer);
                break;
            default:
                throw new InvalidOperationException("An undefined value has no JSON form.");
        }
    }
}
