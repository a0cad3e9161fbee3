using System.Text.Json;

namespace Broker.Core.Query;

/// <summary>A node of a query's expression tree, evaluated against one twin document.</summary>
internal abstract record QueryExpression
{
    public abstract QueryValue Evaluate(JsonElement document);
}

/// <summary>A literal: a string, number, boolean, null or undefined.</summary>
internal sealed record LiteralExpression(QueryValue Value) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document) => Value;
}

/// <summary>An array literal, the right-hand side of IN and NIN.</summary>
internal sealed record ArrayExpression(IReadOnlyList<QueryExpression> Items) : QueryExpression
{
    // Arrays are only meaningful to IN/NIN; standing alone they are not a comparable value.
    public override QueryValue Evaluate(JsonElement document) => QueryValue.Undefined;
}

/// <summary>A property path such as <c>properties.reported.temperature</c>, resolved case-insensitively as IoT Hub does.</summary>
internal sealed record PathExpression(IReadOnlyList<string> Segments) : QueryExpression
{
    public string Name => Segments[^1];

    public override QueryValue Evaluate(JsonElement document)
    {
        var current = document;
        foreach (string segment in Segments)
        {
            if (current.ValueKind != JsonValueKind.Object || !TryGetProperty(current, segment, out current))
            {
                return QueryValue.Undefined;
            }
        }

        return QueryValue.Of(current);
    }

    private static bool TryGetProperty(JsonElement element, string name, out JsonElement value)
    {
        if (element.TryGetProperty(name, out value))
        {
            return true;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        return false;
    }
}

/// <summary>NOT: true for false, false for true, undefined otherwise.</summary>
internal sealed record NotExpression(QueryExpression Operand) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document)
    {
        var value = Operand.Evaluate(document);
        return value.Kind == QueryValueKind.Boolean ? QueryValue.Of(!value.Boolean) : QueryValue.Undefined;
    }
}

/// <summary>Unary minus on a number.</summary>
internal sealed record NegateExpression(QueryExpression Operand) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document)
    {
        var value = Operand.Evaluate(document);
        return value.Kind == QueryValueKind.Number ? QueryValue.Of(-value.Number) : QueryValue.Undefined;
    }
}

/// <summary>AND / OR over booleans (anything else is not true).</summary>
internal sealed record LogicalExpression(bool IsAnd, QueryExpression Left, QueryExpression Right) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document)
    {
        var left = Left.Evaluate(document);
        if (IsAnd && left.Kind == QueryValueKind.Boolean && !left.Boolean)
        {
            return QueryValue.Of(false);
        }

        if (!IsAnd && left.IsTrue)
        {
            return QueryValue.Of(true);
        }

        var right = Right.Evaluate(document);
        if (left.Kind != QueryValueKind.Boolean || right.Kind != QueryValueKind.Boolean)
        {
            // Undefined operands: AND is false if either is false, OR true if either is true (handled above).
            return IsAnd && right.Kind == QueryValueKind.Boolean && !right.Boolean ? QueryValue.Of(false)
                : !IsAnd && right.IsTrue ? QueryValue.Of(true) : QueryValue.Undefined;
        }

        return QueryValue.Of(IsAnd ? left.Boolean && right.Boolean : left.Boolean || right.Boolean);
    }
}

/// <summary>The comparison operators.</summary>
internal enum ComparisonOperator : byte
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>A comparison: only between primitives of one type (strings ordinally); anything else is undefined.</summary>
internal sealed record ComparisonExpression(ComparisonOperator Operator, QueryExpression Left, QueryExpression Right) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document) => Compare(Operator, Left.Evaluate(document), Right.Evaluate(document));

    public static QueryValue Compare(ComparisonOperator op, QueryValue left, QueryValue right)
    {
        if (!left.IsPrimitive || !right.IsPrimitive || left.Kind != right.Kind)
        {
            return QueryValue.Undefined;
        }

        int order = left.Kind switch
        {
            QueryValueKind.Null => 0,
            QueryValueKind.Boolean => left.Boolean.CompareTo(right.Boolean),
            QueryValueKind.Number => left.Number.CompareTo(right.Number),
            _ => string.CompareOrdinal(left.Text, right.Text),
        };
        return QueryValue.Of(op switch
        {
            ComparisonOperator.Equal => order == 0,
            ComparisonOperator.NotEqual => order != 0,
            ComparisonOperator.Less => order < 0,
            ComparisonOperator.LessOrEqual => order <= 0,
            ComparisonOperator.Greater => order > 0,
            _ => order >= 0,
        });
    }
}

/// <summary><c>x IN [a, b]</c> and <c>x NIN [a, b]</c>.</summary>
internal sealed record InExpression(QueryExpression Value, ArrayExpression Candidates, bool Negated) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document)
    {
        var value = Value.Evaluate(document);
        if (!value.IsPrimitive)
        {
            return QueryValue.Undefined;
        }

        foreach (var candidate in Candidates.Items)
        {
            if (ComparisonExpression.Compare(ComparisonOperator.Equal, value, candidate.Evaluate(document)).IsTrue)
            {
                return QueryValue.Of(!Negated);
            }
        }

        return QueryValue.Of(Negated);
    }
}

/// <summary>Arithmetic on numbers: + - * / %.</summary>
internal sealed record ArithmeticExpression(char Operator, QueryExpression Left, QueryExpression Right) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document)
    {
        var left = Left.Evaluate(document);
        var right = Right.Evaluate(document);
        if (left.Kind != QueryValueKind.Number || right.Kind != QueryValueKind.Number)
        {
            return QueryValue.Undefined;
        }

        return QueryValue.Of(Operator switch
        {
            '+' => left.Number + right.Number,
            '-' => left.Number - right.Number,
            '*' => left.Number * right.Number,
            '/' => left.Number / right.Number,
            _ => left.Number % right.Number,
        });
    }
}

/// <summary><c>IS_DEFINED(path)</c>: whether the path exists in the document.</summary>
internal sealed record IsDefinedExpression(QueryExpression Operand) : QueryExpression
{
    public override QueryValue Evaluate(JsonElement document) => QueryValue.Of(Operand.Evaluate(document).Kind != QueryValueKind.Undefined);
}
