namespace Broker.Management.Cli;

/// <summary>Left-aligned columns separated by two spaces; no header row when none is given.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void AddRow(params string[] cells) => _rows.Add(cells);

    public void WriteTo(TextWriter writer)
    {
        int columns = Math.Max(headers.Length, _rows.Count == 0 ? 0 : _rows.Max(static row => row.Length));
        var widths = new int[columns];
        foreach (var row in headers.Length > 0 ? _rows.Prepend(headers) : _rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        if (headers.Length > 0)
        {
            WriteRow(writer, headers, widths);
        }

        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    private static void WriteRow(TextWriter writer, string[] row, int[] widths)
    {
        var line = new System.Text.StringBuilder();
        for (int i = 0; i < row.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }

            line.Append(row[i].PadRight(widths[i]));
        }

        writer.WriteLine(line.ToString().TrimEnd());
    }
}
