using System.Globalization;
using System.Text;
using Broker.Core.Errors;

namespace Broker.Core.Query;

/// <summary>
/// Parses IoT Hub's twin query language: <c>SELECT [TOP n] * | COUNT() [AS a] | path [AS a], … FROM devices |
/// devices.modules [WHERE condition]</c>, with AND/OR/NOT, comparisons, IN/NIN, arithmetic, IS_DEFINED and string,
/// number, boolean, null and undefined literals. Errors are IoT Hub's 400004 naming the position.
/// </summary>
internal sealed class QueryParser
{
    /// <summary>IoT Hub's longest query.</summary>
    public const int MaxLength = 8192;

    private readonly string _text;
    private QuerySource _source;
    private readonly List<Token> _tokens;
    private int _next;

    private QueryParser(string text)
    {
        _text = text;
        _tokens = Tokenize(text);
    }

    public static TwinQuery Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Error("the query is empty.");
        }

        if (text.Length > MaxLength)
        {
            throw Error($"the query is over {MaxLength} characters.");
        }

        RequireValidText(text);
        return new QueryParser(text).ParseQuery();
    }

    /// <summary>Parses a condition on its own (a routing query, the WHERE clause of a route).</summary>
    public static QueryExpression ParseCondition(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Error("the condition is empty.");
        }

        if (text.Length > MaxLength)
        {
            throw Error($"the condition is over {MaxLength} characters.");
        }

        RequireValidText(text);
        var parser = new QueryParser(text);
        var condition = parser.ParseOr();
        return parser.Peek().Kind == TokenKind.End ? condition : throw ErrorAt(parser.Peek(), $"unexpected '{parser.Peek().Text}'.");
    }

    private TwinQuery ParseQuery()
    {
        Expect("SELECT");
        int? top = null;
        if (TryKeyword("TOP"))
        {
            var count = Take();
            if (count.Kind != TokenKind.Number || !int.TryParse(count.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            {
                throw ErrorAt(count, "TOP takes a positive whole number.");
            }

            top = n;
        }

        List<SelectItem>? items = null;
        if (!TrySymbol("*"))
        {
            items = [];
            do
            {
                items.Add(ParseSelectItem());
            }
            while (TrySymbol(","));

            if (items.Count > 1 && items.Any(static item => item.IsCount))
            {
                throw Error("COUNT() cannot be selected with other values (GROUP BY is not supported).");
            }
        }

        Expect("FROM");
        var source = _source = ParseSource();
        if (source == QuerySource.Jobs && items is not null)
        {
            throw Error("devices.jobs can only be queried with SELECT *.");
        }

        QueryExpression? where = TryKeyword("WHERE") ? ParseOr() : null;
        if (Peek().Kind == TokenKind.Identifier && Peek().Is("GROUP"))
        {
            throw ErrorAt(Peek(), "GROUP BY is not supported.");
        }

        if (Peek().Kind != TokenKind.End)
        {
            throw ErrorAt(Peek(), $"unexpected '{Peek().Text}'.");
        }

        return new TwinQuery(top, items, source, where);
    }

    private SelectItem ParseSelectItem()
    {
        var start = Peek();
        if (start.Is("COUNT") && PeekAt(1).Text == "(")
        {
            Take();
            Take();
            ExpectSymbol(")");
            return new SelectItem(TryKeyword("AS") ? TakeIdentifier() : "$1", null);
        }

        if (ParseAdditive() is not PathExpression path)
        {
            throw ErrorAt(start, "only property paths and COUNT() can be selected.");
        }

        return new SelectItem(TryKeyword("AS") ? TakeIdentifier() : path.Name, path);
    }

    private QuerySource ParseSource()
    {
        var collection = Take();
        if (!collection.Is("devices"))
        {
            throw ErrorAt(collection, "the collection must be devices or devices.modules.");
        }

        if (!TrySymbol("."))
        {
            return QuerySource.Devices;
        }

        var member = Take();
        return member.Is("modules") ? QuerySource.Modules
            : member.Is("jobs") ? QuerySource.Jobs
            : throw ErrorAt(member, "the collection must be devices, devices.modules or devices.jobs.");
    }

    private QueryExpression ParseOr()
    {
        var left = ParseAnd();
        while (TryKeyword("OR"))
        {
            left = new LogicalExpression(false, left, ParseAnd());
        }

        return left;
    }

    private QueryExpression ParseAnd()
    {
        var left = ParseNot();
        while (TryKeyword("AND"))
        {
            left = new LogicalExpression(true, left, ParseNot());
        }

        return left;
    }

    private QueryExpression ParseNot() => TryKeyword("NOT") ? new NotExpression(ParseNot()) : ParseComparison();

    private QueryExpression ParseComparison()
    {
        var left = ParseAdditive();
        var token = Peek();
        ComparisonOperator? op = token.Kind == TokenKind.Symbol ? token.Text switch
        {
            "=" => ComparisonOperator.Equal,
            "!=" or "<>" => ComparisonOperator.NotEqual,
            "<" => ComparisonOperator.Less,
            "<=" => ComparisonOperator.LessOrEqual,
            ">" => ComparisonOperator.Greater,
            ">=" => ComparisonOperator.GreaterOrEqual,
            _ => null,
        } : null;
        if (op is { } comparison)
        {
            Take();
            return new ComparisonExpression(comparison, left, ParseAdditive());
        }

        if (TryKeyword("IN"))
        {
            return new InExpression(left, ParseArray(), Negated: false);
        }

        if (TryKeyword("NIN"))
        {
            return new InExpression(left, ParseArray(), Negated: true);
        }

        if (Peek().Is("NOT") && PeekAt(1).Is("IN"))
        {
            Take();
            Take();
            return new InExpression(left, ParseArray(), Negated: true);
        }

        return left;
    }

    private QueryExpression ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek().Kind == TokenKind.Symbol && Peek().Text is "+" or "-")
        {
            char op = Take().Text[0];
            left = new ArithmeticExpression(op, left, ParseMultiplicative());
        }

        return left;
    }

    private QueryExpression ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Peek().Kind == TokenKind.Symbol && Peek().Text is "*" or "/" or "%")
        {
            char op = Take().Text[0];
            left = new ArithmeticExpression(op, left, ParseUnary());
        }

        return left;
    }

    private QueryExpression ParseUnary() => TrySymbol("-") ? new NegateExpression(ParseUnary()) : ParsePrimary();

    private QueryExpression ParsePrimary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.String:
                return new LiteralExpression(QueryValue.Of(token.Text));
            case TokenKind.Number:
                return new LiteralExpression(QueryValue.Of(ParseNumber(token)));
            case TokenKind.Symbol when token.Text == "(":
                var inner = ParseOr();
                ExpectSymbol(")");
                return inner;
            case TokenKind.Symbol when token.Text == "[":
                _next--;
                return ParseArray();
            case TokenKind.Identifier:
                if (token.Is("true") || token.Is("false"))
                {
                    return new LiteralExpression(QueryValue.Of(token.Is("true")));
                }

                if (token.Is("null"))
                {
                    return new LiteralExpression(QueryValue.Null);
                }

                if (token.Is("undefined"))
                {
                    return new LiteralExpression(QueryValue.Undefined);
                }

                if (Peek().Text == "(" && Peek().Kind == TokenKind.Symbol)
                {
                    return ParseFunction(token);
                }

                return ParsePath(token);
            default:
                throw ErrorAt(token, token.Kind == TokenKind.End ? "the query ends too early." : $"unexpected '{token.Text}'.");
        }
    }

    private QueryExpression ParseFunction(Token name)
    {
        if (!name.Is("IS_DEFINED"))
        {
            throw ErrorAt(name, $"the function {name.Text} is not supported (IS_DEFINED is).");
        }

        ExpectSymbol("(");
        var argument = ParseAdditive();
        ExpectSymbol(")");
        return new IsDefinedExpression(argument);
    }

    private PathExpression ParsePath(Token first)
    {
        var segments = new List<string> { first.Text };
        while (true)
        {
            if (TrySymbol("."))
            {
                segments.Add(TakeIdentifier());
            }
            else if (Peek().Kind == TokenKind.Symbol && Peek().Text == "[" && PeekAt(1).Kind == TokenKind.String)
            {
                Take();
                segments.Add(Take().Text);
                ExpectSymbol("]");
            }
            else
            {
                // IoT Hub names a job row's fields devices.jobs.<field> in the conditions of a devices.jobs query.
                if (_source == QuerySource.Jobs && segments.Count > 2
                    && string.Equals(segments[0], "devices", StringComparison.OrdinalIgnoreCase) && string.Equals(segments[1], "jobs", StringComparison.OrdinalIgnoreCase))
                {
                    segments.RemoveRange(0, 2);
                }

                return new PathExpression(segments);
            }
        }
    }

    private ArrayExpression ParseArray()
    {
        var open = Take();
        string close = open.Text switch
        {
            "[" => "]",
            "(" => ")",
            _ => throw ErrorAt(open, "IN and NIN take a list such as ['a', 'b']."),
        };
        var items = new List<QueryExpression>();
        if (!TrySymbol(close))
        {
            do
            {
                items.Add(ParseAdditive());
            }
            while (TrySymbol(","));

            ExpectSymbol(close);
        }

        return new ArrayExpression(items);
    }

    private static double ParseNumber(Token token)
    {
        if (token.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(token.Text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long hex)
                ? hex : throw ErrorAt(token, $"'{token.Text}' is not a number.");
        }

        return double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value : throw ErrorAt(token, $"'{token.Text}' is not a number.");
    }

    private Token Peek() => _tokens[_next];

    private Token PeekAt(int ahead) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];

    private Token Take()
    {
        var token = _tokens[_next];
        if (token.Kind != TokenKind.End)
        {
            _next++;
        }

        return token;
    }

    private string TakeIdentifier()
    {
        var token = Take();
        return token.Kind == TokenKind.Identifier ? token.Text : throw ErrorAt(token, "a name is expected.");
    }

    private bool TryKeyword(string keyword)
    {
        if (Peek().Kind == TokenKind.Identifier && Peek().Is(keyword))
        {
            _next++;
            return true;
        }

        return false;
    }

    private bool TrySymbol(string symbol)
    {
        if (Peek().Kind == TokenKind.Symbol && Peek().Text == symbol)
        {
            _next++;
            return true;
        }

        return false;
    }

    private void Expect(string keyword)
    {
        if (!TryKeyword(keyword))
        {
            throw ErrorAt(Peek(), $"{keyword} is expected.");
        }
    }

    private void ExpectSymbol(string symbol)
    {
        if (!TrySymbol(symbol))
        {
            throw ErrorAt(Peek(), $"'{symbol}' is expected.");
        }
    }

    // Names are looked up in JSON documents, which cannot hold a lone surrogate: refuse one (also one spelled \uD800).
    private static void RequireValidText(string text)
    {
        if (!IsValidUtf16(text))
        {
            throw Error("the text holds an unpaired surrogate (not valid Unicode).");
        }
    }

    private static bool IsValidUtf16(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static IotHubException Error(string message) => IotHubErrors.ArgumentInvalid("Invalid query: " + message);

    private static IotHubException ErrorAt(Token token, string message) => Error($"at position {token.Position + 1}, {message}");

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            int start = i;
            if (char.IsLetter(c) || c is '_' or '$')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '$'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], start));
            }
            else if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                if (c == '0' && i + 1 < text.Length && text[i + 1] is 'x' or 'X')
                {
                    i += 2;
                    while (i < text.Length && char.IsAsciiHexDigit(text[i]))
                    {
                        i++;
                    }
                }
                else
                {
                    while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'
                        || ((text[i] is 'e' or 'E') && i + 1 < text.Length && (char.IsDigit(text[i + 1]) || text[i + 1] is '+' or '-'))
                        || ((text[i] is '+' or '-') && text[i - 1] is 'e' or 'E')))
                    {
                        i++;
                    }
                }

                tokens.Add(new Token(TokenKind.Number, text[start..i], start));
            }
            else if (c is '\'' or '"')
            {
                tokens.Add(new Token(TokenKind.String, ReadString(text, ref i), start));
            }
            else
            {
                string two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                if (two is "!=" or "<>" or "<=" or ">=")
                {
                    tokens.Add(new Token(TokenKind.Symbol, two, start));
                    i += 2;
                }
                else if ("()[],.*=<>+-/%".Contains(c, StringComparison.Ordinal))
                {
                    tokens.Add(new Token(TokenKind.Symbol, c.ToString(), start));
                    i++;
                }
                else
                {
                    throw Error($"at position {start + 1}, unexpected character '{c}'.");
                }
            }
        }

        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static string ReadString(string text, ref int i)
    {
        char quote = text[i];
        int start = i++;
        var value = new StringBuilder();
        while (i < text.Length)
        {
            char c = text[i++];
            if (c == quote)
            {
                return IsValidUtf16(value.ToString()) ? value.ToString() : throw Error($"at position {start + 1}, the string holds an unpaired surrogate.");
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (i >= text.Length)
            {
                break;
            }

            char escaped = text[i++];
            switch (escaped)
            {
                case '\'' or '"' or '\\' or '/':
                    value.Append(escaped);
                    break;
                case 'n':
                    value.Append('\n');
                    break;
                case 't':
                    value.Append('\t');
                    break;
                case 'r':
                    value.Append('\r');
                    break;
                case 'b':
                    value.Append('\b');
                    break;
                case 'f':
                    value.Append('\f');
                    break;
                case 'u' when i + 4 <= text.Length && ushort.TryParse(text.AsSpan(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort code):
                    value.Append((char)code);
                    i += 4;
                    break;
                default:
                    throw Error($"at position {i - 1}, unknown escape '\\{escaped}'.");
            }
        }

        throw Error($"at position {start + 1}, the string is not closed.");
    }

    private enum TokenKind : byte
    {
        Identifier,
        Number,
        String,
        Symbol,
        End,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Position)
    {
        public bool Is(string keyword) => Kind == TokenKind.Identifier && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
    }
}
